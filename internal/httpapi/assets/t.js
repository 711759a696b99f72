/* Carnival tracker: <script src="https://carnival.example/t.js" data-key="ck_pk_…" async></script>
   data-key is a PUBLISHABLE key (ck_pk_…): it only sends events. Never put a storefront secret key
   (ck_st_…) or any other key in a page; those stay on your servers. */
(function (w, d) {
  var s = d.currentScript || d.querySelector('script[data-key]');
  if (!s || w.carnival) return;
  var key = s.getAttribute('data-key'), api = (s.getAttribute('data-api') || new URL(s.src).origin) + '/api/v1/events';
  function ck(n) { var m = d.cookie.match('(?:^|; )' + n + '=([^;]*)'); return m ? decodeURIComponent(m[1]) : ''; }
  function set(n, v, days) {
    d.cookie = n + '=' + encodeURIComponent(v) + '; path=/; SameSite=Lax' + (days ? '; max-age=' + days * 86400 : '');
  }
  function rid() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  var anon = ck('_cnv_id') || rid();
  set('_cnv_id', anon, 365);
  var sess = ck('_cnv_s') || rid(), utm = {};
  try { utm = JSON.parse(ck('_cnv_utm') || '{}'); } catch (e) {}
  var q = new URLSearchParams(w.location.search), fresh = {}, got = 0;
  ['source', 'medium', 'campaign', 'content', 'term'].forEach(function (k) {
    var v = q.get('utm_' + k);
    if (v) { fresh['utm_' + k] = v.slice(0, 128); got = 1; }
  });
  if (got) utm = fresh;
  set('_cnv_s', sess);
  set('_cnv_utm', JSON.stringify(utm));
  var queue = [], timer = 0, cid = '';
  function flush() {
    timer = 0;
    if (!queue.length) return;
    var body = JSON.stringify({ events: queue.splice(0, 1000) });
    fetch(api, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key }, body: body })
      .catch(function () {});
  }
  function track(type, props) {
    var e = { id: rid(), type: type, ts: new Date().toISOString(), anonymous_id: anon, session_id: sess,
      url: w.location.href.slice(0, 2048), device: /Mobi/.test(navigator.userAgent) ? 'mobile' : 'desktop' };
    for (var k in utm) e[k] = utm[k];
    if (cid) e.customer_id = cid;
    for (var p in props || {}) e[p] = props[p];
    queue.push(e);
    if (queue.length >= 20) flush(); else if (!timer) timer = setTimeout(flush, 1000);
  }
  // sendBeacon cannot carry the Authorization header, so the last events go
  // out with fetch keepalive, which survives the page unloading.
  d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') flush(); });
  w.addEventListener('pagehide', flush);
  w.carnival = { track: track, identify: function (id) { cid = String(id).slice(0, 64); }, flush: flush };
  track('page_view');
})(window, document);
