// Swagger UI for /api/docs/, from the vendored bundle; a file, not inline, so CSP holds.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    requestInterceptor: function (request) {
      var token = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
      if (token) { request.headers["X-CSRFToken"] = decodeURIComponent(token[1]); }
      return request;
    }
  });
});
