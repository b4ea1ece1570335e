// Starts Swagger UI on the API document (a file, not inline: the site's CSP allows no
// inline script).
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  persistAuthorization: false,
});
