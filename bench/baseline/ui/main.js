// Reports readiness once the first frame is on screen, as the app's UI does.
requestAnimationFrame(() => {
  void window.__TAURI__.core.invoke("app_ready").catch(() => undefined);
});
