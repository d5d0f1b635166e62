// Starts Swagger UI on /api/docs with the live OpenAPI document.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
    // No badge from validator.swagger.io: nothing leaves the site.
    validatorUrl: null,
  });
});
