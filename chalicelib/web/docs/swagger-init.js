// Swagger UI for /docs, served from the package. An external file because the page's CSP allows
// no inline script; validatorUrl null because the badge would call validator.swagger.io.
"use strict";
(function () {
  var root = document.getElementById("ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.openapi, document.baseURI).href,
    dom_id: "#ui",
    validatorUrl: null,
    deepLinking: true,
  });
})();
