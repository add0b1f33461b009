// The API documentation page: Swagger UI over our own OpenAPI document. A person's calls from this page use their
// signed-in session; changes carry the page's CSRF token.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root || typeof SwaggerUIBundle !== "function") {
    return;
  }
  var csrf = root.getAttribute("data-csrf");
  SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    dom_id: "#api-docs",
    deepLinking: true,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      if (request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    },
  });
})();
