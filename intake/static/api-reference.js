// The API reference page: Swagger UI, served by Intake, reading the OpenAPI document the API generates.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("reference");
  window.SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    // "Try it out" sends the token typed under Authorize, never the page's cookies.
    withCredentials: false,
  });
});
