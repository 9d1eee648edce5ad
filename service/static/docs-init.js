// Starts Swagger UI for /docs; a file rather than an inline script so the page CSP can forbid those.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
