// Platform side of 1EdTech "LTI Client Side postMessages" and "LTI Platform Storage".
// The Rust side defines `ltisimStorage = {origins, frame, answers}` before this script:
//   origins: the registered tool's origins, the only senders answered and the only
//            targetOrigins replied to (never a wildcard);
//   frame:   the storage frame name announced in lti.capabilities ("_parent" = this page);
//   answers: the subjects this window handles (others get unsupported_subject).
(function (config) {
  "use strict";
  var LIMITS = { keyLength: 2048, valueLength: 4096, entriesPerOrigin: 500 };
  var stores = new Map(); // origin -> Map(key -> value): no tool reads another's data

  function storeFor(origin) {
    if (!stores.has(origin)) stores.set(origin, new Map());
    return stores.get(origin);
  }

  window.addEventListener("message", function (event) {
    if (config.origins.indexOf(event.origin) < 0 || !event.source) return;
    var data = event.data;
    if (data === null || typeof data !== "object" || typeof data.subject !== "string") return;
    // Some tools use the older "org.imsglobal." prefix; answer in the form asked.
    var prefix = data.subject.indexOf("org.imsglobal.") === 0 ? "org.imsglobal." : "";
    var subject = data.subject.slice(prefix.length);
    if (subject.indexOf("lti.") !== 0 || /\.response$/.test(subject)) return;

    function reply(body) {
      var message = { subject: data.subject + ".response", message_id: data.message_id };
      for (var name in body) message[name] = body[name];
      event.source.postMessage(message, event.origin);
    }
    function fail(code, text) {
      reply({ error: { code: code, message: text } });
    }

    if (config.answers.indexOf(subject) < 0) {
      fail("unsupported_subject", "this window does not handle " + subject);
      return;
    }
    var store = storeFor(event.origin);
    var key = data.key;
    var validKey = typeof key === "string" && key.length > 0 && key.length <= LIMITS.keyLength;
    switch (subject) {
      case "lti.capabilities":
        reply({
          supported_messages: [
            { subject: "lti.capabilities" },
            { subject: "lti.put_data", frame: config.frame },
            { subject: "lti.get_data", frame: config.frame }
          ]
        });
        break;
      case "lti.put_data":
        if (!validKey) return fail("bad_request", "key must be a non-empty string of at most " + LIMITS.keyLength + " characters");
        if (typeof data.value !== "string" || data.value.length > LIMITS.valueLength) {
          return fail("bad_request", "value must be a string of at most " + LIMITS.valueLength + " characters");
        }
        if (!store.has(key) && store.size >= LIMITS.entriesPerOrigin) {
          return fail("bad_request", "too many keys stored for this origin");
        }
        store.set(key, data.value);
        reply({ key: key, value: data.value });
        break;
      case "lti.get_data":
        if (!validKey) return fail("bad_request", "key must be a non-empty string");
        if (!store.has(key)) return fail("bad_request", "no value is stored under this key");
        reply({ key: key, value: store.get(key) });
        break;
    }
  });
})(ltisimStorage);
