// Plotly's own words in the page's language (<html lang>, set per request by
// dashapp/components/language.py): the modebar's buttons and the box plots'
// hover labels. The app's own figure texts come translated from the server
// (dashapp/figures.py); numbers use each figure's layout.separators.
// plotly.js loads asynchronously: the Spanish dictionary is registered and
// the page's language made every plot's default locale as soon as it arrives.
(function () {
    var SPANISH = {
        moduleType: "locale",
        name: "es",
        dictionary: {
            "Autoscale": "Escala automática",
            "Box Select": "Selección rectangular",
            "Compare data on hover": "Comparar datos al pasar el ratón",
            "Double-click on legend to isolate one trace": "Doble clic en la leyenda para aislar una serie",
            "Double-click to zoom back out": "Doble clic para alejar",
            "Download plot": "Descargar gráfico",
            "Download plot as a PNG": "Descargar gráfico como PNG",
            "Image download succeeded": "Imagen descargada",
            "Lasso Select": "Selección con lazo",
            "Pan": "Desplazar",
            "Produced with Plotly.js": "Hecho con Plotly.js",
            "Reset axes": "Restablecer ejes",
            "Reset view": "Restablecer vista",
            "Share chart...": "Compartir gráfico…",
            "Show closest data on hover": "Mostrar el dato más cercano al pasar el ratón",
            "Sorry, there was a problem downloading your image!": "No se pudo descargar la imagen.",
            "Toggle Spike Lines": "Mostrar u ocultar líneas de guía",
            "Zoom": "Zoom",
            "Zoom in": "Acercar",
            "Zoom out": "Alejar",
            "lower fence:": "límite inferior:",
            "max:": "máx.:",
            "mean:": "media:",
            "mean ± σ:": "media ± σ:",
            "median:": "mediana:",
            "min:": "mín.:",
            "q1:": "q1:",
            "q3:": "q3:",
            "upper fence:": "límite superior:",
        },
        format: {decimal: ",", thousands: "."},
    };
    function apply(plotly) {
        plotly.register(SPANISH);
        var lang = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
        plotly.setPlotConfig({locale: lang === "es" ? "es" : "en-US"});
    }
    if (window.Plotly) {
        apply(window.Plotly);
        return;
    }
    // Before any plot is drawn: box plots word their hover labels when first
    // computed, so registering after the first draw would leave them English.
    var held;
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        enumerable: true,
        get: function () { return held; },
        set: function (plotly) {
            Object.defineProperty(window, "Plotly", {value: plotly, writable: true, configurable: true, enumerable: true});
            if (plotly && plotly.register && plotly.setPlotConfig) {
                apply(plotly);
            }
            held = plotly;
        },
    });
})();
