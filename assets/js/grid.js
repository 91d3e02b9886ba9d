// Functions the app's AG Grids name in their options (dash-ag-grid reads
// window.dashAgGridFunctions): Enter on a focused row of the Overview's top
// filters opens that filter's detail page, as a click on the row does.
"use strict";

window.dashAgGridFunctions = Object.assign(window.dashAgGridFunctions || {}, {
  openRowOnEnter(params, setEventData) {
    if (params.event && params.event.key === "Enter" && params.data) {
      setEventData({index: params.data.index});
    }
  },
});
