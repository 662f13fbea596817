// Written by sitegen (sitegen/ohif_host.js): the route to images for OHIF's study list on
// every host.
//
// OHIF's DICOMweb source reads a frame's transfer syntax only from its Content-Type: a host
// that sends none (GitHub Pages, Surge, a plain static server) leaves it decoding HTJ2K as
// raw pixels, flat grey squares; a site of packed frames ([build] pack) has no frame files
// for it at all. On such a host the studies OHIF opens from its list go to its DICOM JSON
// source over the Part 10 files (dicomjson/<study>.json, the route of the case pages'
// links), which carry their transfer syntax. A site without those files ([build]
// downloads = false) cannot be helped: the study list says so and links the site's viewer.
(function () {
  var base = '/ohif/';  // where OHIF lives: sitegen writes the site's own
  var site = '/';  // the site root: sitegen writes the site's own
  var raw = '1.2.840.10008.1.2.1';
  var studies = site + 'dicomweb/studies/';
  var uidPattern = /^[0-9]+(\.[0-9]+)*$/;
  var verdict = null;
  var known = null;  // the verdict, once it has come

  function first(rows, tag) { return rows[0][tag].Value[0]; }
  function json(url) { return fetch(url).then(function (r) { return r.json(); }); }
  function head(url) { return fetch(url, { method: 'HEAD' }); }

  // "dicomweb": OHIF reads the frames as they are served; "dicomjson": send studies to the
  // DICOM JSON route; "none": neither works on this host. Asked once, when first needed.
  function decide() {
    if (verdict) return verdict;
    var study, series;
    verdict = json(studies + 'index.json').then(function (rows) {
      study = first(rows, '0020000D');
      return json(studies + study + '/series/index.json');
    }).then(function (rows) {
      series = studies + study + '/series/' + first(rows, '0020000E');
      return json(series + '/metadata');
    }).then(function (meta) {
      if (first(meta, '00083002') === raw) return { route: 'dicomweb' };  // no header needed
      return head(series + '/instances/' + first(meta, '00080018') + '/frames/1')
        .then(function (frame) {
          var packed = frame.status === 404;
          var typed = (frame.headers.get('content-type') || '').indexOf('transfer-syntax=');
          if (!packed && (!frame.ok || typed !== -1)) return { route: 'dicomweb' };
          return head(site + 'dicomjson/' + study + '.json').then(function (manifest) {
            return { route: manifest.ok ? 'dicomjson' : 'none', packed: packed };
          });
        });
    }).catch(function () {
      return { route: 'dicomweb' };
    }).then(function (v) {
      known = v;
      return v;
    });
    return verdict;
  }

  // OHIF's list opens <base><mode>[/dicomweb]?StudyInstanceUIDs=<uid>&...: the same study
  // and parameters on the DICOM JSON route, through ohif/?route= (index.html, every host).
  function rerouted(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) return null;
    if (target.pathname.indexOf(base) !== 0) return null;
    var mode = target.pathname.slice(base.length).split('/');
    if (!mode[0] || mode.length > 2 || (mode.length === 2 && mode[1] !== 'dicomweb')) {
      return null;
    }
    var params = target.searchParams;
    var uid = params.get('StudyInstanceUIDs');
    if (!uid || !uidPattern.test(uid)) return null;
    params.delete('StudyInstanceUIDs');
    var manifest = site + 'dicomjson/' + uid + '.json';
    var route = mode[0] + '/dicomjson?url=' + encodeURIComponent(manifest);
    var rest = params.toString();
    if (rest) route += '&' + rest;
    return base + '?route=' + encodeURIComponent(route) + target.hash;
  }

  // OHIF navigates with history.pushState: a study it opens is sent on, once the verdict is
  // known (the study list asks at once, so there it almost always is); until then the
  // navigation waits, and is then made as OHIF asked, with the popstate event that makes
  // its router follow. Other pages ask only when OHIF opens a study from them.
  var push = window.history.pushState;
  window.history.pushState = function (state, title, url) {
    var target = url === undefined || url === null ? null : rerouted(String(url));
    if (!target || (known && known.route !== 'dicomjson')) return push.apply(this, arguments);
    if (known) return window.location.assign(target);
    var self = this;
    var args = arguments;
    decide().then(function (v) {
      if (v.route === 'dicomjson') return window.location.assign(target);
      push.apply(self, args);
      window.dispatchEvent(new PopStateEvent('popstate', { state: state }));
    });
  };

  function note(packed) {
    var box = document.createElement('div');
    box.id = 'sitegen-host-note';
    box.setAttribute('role', 'status');
    box.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:10000;' +
      'padding:10px 16px;background:#3b2f00;color:#fff;font:14px sans-serif';
    box.textContent = (packed
      ? 'This site packs its image frames for its own viewer'
      : 'This host sends no Content-Type for the image frames') +
      ', and the site has no DICOM files for OHIF to read instead: OHIF shows no images ' +
      'here, from this list or from the case pages. The site\'s own viewer shows them: ';
    var link = document.createElement('a');
    link.href = site;
    link.textContent = 'all cases';
    link.style.color = '#9cf';
    box.appendChild(link);
    document.body.appendChild(box);
  }

  var path = window.location.pathname;
  if (path !== base && path + '/' !== base) return;  // the study list asks at once
  decide().then(function (v) { if (v.route === 'none') note(v.packed); });
})();
