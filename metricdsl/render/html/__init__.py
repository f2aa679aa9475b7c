"""The HTML report: one self-contained page, its trend charts as Vega-Lite specs (`charts`), templates and CSS."""
