"""What the API serves to browsers from the package itself (nothing from a CDN): the staff web app
(`ui/`, at /ui) and Swagger UI (`vendor/swagger-ui/` + `docs/`, at /docs). `assets.py` holds the
catalogue, content types and headers; the routes are in `chalicelib/api/routes/web.py`."""
