// Draw every figure of the page with the plotly.js this server ships (no other host is contacted).
document.querySelectorAll("[data-figure]").forEach(function (element) {
  var figure = JSON.parse(element.dataset.figure);
  Plotly.newPlot(element, figure.data, figure.layout, {displaylogo: false, responsive: true});
});
