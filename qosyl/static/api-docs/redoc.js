// Starts ReDoc on the API document (a file, not inline: the site's CSP allows no inline
// script).
const root = document.getElementById("redoc");
window.Redoc.init(root.dataset.specUrl, { hideDownloadButton: false }, root);
