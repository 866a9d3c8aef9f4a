// Starts Swagger UI on the service's own OpenAPI document; a file of its own because the
// page's Content-Security-Policy allows no inline script.
window.addEventListener("load", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The page is offline-safe: no validator badge that would call a public validator.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
