// Starts Swagger UI on /api/docs. A file of its own, not an inline script,
// so the page keeps the site's Content-Security-Policy (script-src 'self').
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#docs",
    deepLinking: true,
    // Cookies ride along on "Try it out": the session scheme is a cookie.
    withCredentials: true,
  });
});
