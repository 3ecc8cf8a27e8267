function ltiStorage(cfg, request, done) {
  var finished = false;
  function finish(ok, value) { if (!finished) { finished = true; done(ok, value); } }
  function frameNamed(name) {
    if (!name || name === "_parent") return window.parent;
    try { return window.parent.frames[name] || window.top.frames[name]; } catch (e) { return null; }
  }
  var target = frameNamed(cfg.target);
  if (!target || target === window) { return finish(false); }
  var capId = "cap-" + Math.random().toString(36).slice(2);
  var reqId = "req-" + Math.random().toString(36).slice(2);
  window.addEventListener("message", function (event) {
    var d = event.data;
    if (event.origin !== cfg.origin || !d || typeof d !== "object") return;
    if (d.subject === "lti.capabilities.response" && d.message_id === capId) {
      var cap = (d.supported_messages || []).filter(function (m) { return m.subject === request.subject; })[0];
      if (!cap) return finish(false);
      var storage = cap.frame ? frameNamed(cap.frame) : target;
      if (!storage) return finish(false);
      request.message_id = reqId;
      storage.postMessage(request, cfg.origin);
    } else if (d.subject === request.subject + ".response" && d.message_id === reqId) {
      finish(!d.error, d.value);
    }
  });
  target.postMessage({ subject: "lti.capabilities", message_id: capId }, cfg.origin);
  setTimeout(function () { finish(false); }, 3000);
}
