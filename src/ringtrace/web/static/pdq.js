/*
 * PDQ perceptual hashing in the browser, so an image can be hashed on the victim's own device
 * and never uploaded.
 *
 * This follows Meta's PDQ algorithm (ThreatExchange, pdq/README and hashing.pdf): luminance,
 * two passes of a Jarosz box filter, decimation to 64x64, a 16x16 DCT, and one bit per
 * coefficient above the median; quality is the image-domain gradient metric. Before hashing,
 * the image gets ringtrace's fixed preprocessing (docs/media.md): EXIF orientation applied by
 * the browser's decoder, RGB, and a downscale so the longer side is at most 512 pixels (area
 * average here, Pillow's thumbnail on the server; the two agree within a few bits).
 *
 * Written for ringtrace from the published algorithm. Works in browsers and in Node (for
 * tests): window.RingtracePDQ / module.exports.
 */
(function (root) {
  "use strict";

  var LUMA_R = 0.299, LUMA_G = 0.587, LUMA_B = 0.114;
  var MIN_HASHABLE_DIM = 5;
  var MAX_SIDE = 512;
  var PREPROCESSING = "exif-rgb-thumb512/v1";

  var DCT = (function () {
    var d = new Float64Array(16 * 64);
    var scale = Math.sqrt(2.0 / 64.0);
    for (var i = 0; i < 16; i++) {
      for (var j = 0; j < 64; j++) {
        d[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64.0) * (i + 1) * (2 * j + 1));
      }
    }
    return d;
  })();

  function windowSize(oldDim, newDim) {
    return Math.floor((oldDim + 2 * newDim - 1) / (2 * newDim));
  }

  function box1D(inv, inOff, out, outOff, len, stride, full) {
    var half = Math.floor((full + 2) / 2);
    var p1 = half - 1, p2 = full - half + 1, p3 = len - full, p4 = half - 1;
    var li = 0, ri = 0, oi = 0, sum = 0.0, cur = 0, k;
    for (k = 0; k < p1; k++) { sum += inv[inOff + ri]; cur++; ri += stride; }
    for (k = 0; k < p2; k++) {
      sum += inv[inOff + ri]; cur++;
      out[outOff + oi] = sum / cur; ri += stride; oi += stride;
    }
    for (k = 0; k < p3; k++) {
      sum += inv[inOff + ri]; sum -= inv[inOff + li];
      out[outOff + oi] = sum / cur; li += stride; ri += stride; oi += stride;
    }
    for (k = 0; k < p4; k++) {
      sum -= inv[inOff + li]; cur--;
      out[outOff + oi] = sum / cur; li += stride; oi += stride;
    }
  }

  function torbenMedian(m) {
    var n = m.length, i, min = m[0], max = m[0];
    for (i = 1; i < n; i++) { if (m[i] < min) min = m[i]; if (m[i] > max) max = m[i]; }
    var half = Math.floor((n + 1) / 2);
    for (;;) {
      var guess = (min + max) / 2, less = 0, greater = 0, equal = 0;
      var maxlt = min, mingt = max;
      for (i = 0; i < n; i++) {
        var v = m[i];
        if (v < guess) { less++; if (v > maxlt) maxlt = v; }
        else if (v > guess) { greater++; if (v < mingt) mingt = v; }
        else equal++;
      }
      if (less <= half && greater <= half) {
        if (less >= half) return maxlt;
        if (less + equal >= half) return guess;
        return mingt;
      }
      if (less > greater) max = maxlt; else min = mingt;
    }
  }

  /** Hash a luminance-ready RGBA (or RGB) pixel buffer. Returns {pdq, quality}. */
  function hashPixels(data, width, height, channels) {
    channels = channels || 4;
    if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) {
      return { pdq: new Array(65).join("0"), quality: 0 };
    }
    var rows = height, cols = width, n = rows * cols;
    var a = new Float32Array(n), b = new Float32Array(n), i, j, k;
    for (i = 0, k = 0; i < n; i++, k += channels) {
      a[i] = LUMA_R * data[k] + LUMA_G * data[k + 1] + LUMA_B * data[k + 2];
    }
    var wr = windowSize(cols, 64), wc = windowSize(rows, 64);
    for (var pass = 0; pass < 2; pass++) {
      for (i = 0; i < rows; i++) box1D(a, i * cols, b, i * cols, cols, 1, wr);
      for (j = 0; j < cols; j++) box1D(b, j, a, j, rows, cols, wc);
    }
    var buf = new Float32Array(64 * 64);
    for (i = 0; i < 64; i++) {
      var ini = Math.floor(((i + 0.5) * rows) / 64);
      for (j = 0; j < 64; j++) {
        var inj = Math.floor(((j + 0.5) * cols) / 64);
        buf[i * 64 + j] = a[ini * cols + inj];
      }
    }
    var grad = 0;
    for (i = 0; i < 63; i++) {
      for (j = 0; j < 64; j++) grad += Math.abs(Math.trunc(((buf[i * 64 + j] - buf[(i + 1) * 64 + j]) * 100) / 255));
    }
    for (i = 0; i < 64; i++) {
      for (j = 0; j < 63; j++) grad += Math.abs(Math.trunc(((buf[i * 64 + j] - buf[i * 64 + j + 1]) * 100) / 255));
    }
    var quality = Math.min(100, Math.floor(grad / 90));
    // B = D * A * D^T
    var t = new Float64Array(16 * 64);
    for (i = 0; i < 16; i++) {
      for (j = 0; j < 64; j++) {
        var s = 0.0;
        for (k = 0; k < 64; k++) s += DCT[i * 64 + k] * buf[k * 64 + j];
        t[i * 64 + j] = s;
      }
    }
    var dct = new Float64Array(256);
    for (i = 0; i < 16; i++) {
      for (j = 0; j < 16; j++) {
        var s2 = 0.0;
        for (k = 0; k < 64; k++) s2 += t[i * 64 + k] * DCT[j * 64 + k];
        dct[i * 16 + j] = s2;
      }
    }
    var median = torbenMedian(dct);
    var words = new Array(16);
    for (i = 0; i < 16; i++) words[i] = 0;
    for (k = 0; k < 256; k++) if (dct[k] > median) words[k >> 4] |= 1 << (k & 15);
    var hex = "";
    for (i = 15; i >= 0; i--) hex += ("0000" + words[i].toString(16)).slice(-4);
    return { pdq: hex, quality: quality };
  }

  /** The size Pillow's Image.thumbnail((512, 512)) picks, so both sides hash the same shape. */
  function thumbnailSize(width, height) {
    if (width <= MAX_SIDE && height <= MAX_SIDE) return [width, height];
    var aspect = width / height, x = MAX_SIDE, y = MAX_SIDE;
    function pick(a, b, key) { return key(a) <= key(b) ? a : b; }
    if (x / y >= aspect) {
      var fx = Math.floor(y * aspect);
      x = Math.max(pick(fx, fx + 1, function (n) { return Math.abs(aspect - n / y); }), 1);
    } else {
      var fy = Math.floor(x / aspect);
      y = Math.max(pick(fy, fy + 1, function (n) { return n === 0 ? 0 : Math.abs(aspect - x / n); }), 1);
    }
    return [x, y];
  }

  /** Area-average downscale of RGBA pixels to (w, h). */
  function downscale(data, width, height, w, h) {
    var out = new Uint8ClampedArray(w * h * 4);
    var sx = width / w, sy = height / h;
    for (var oy = 0; oy < h; oy++) {
      var y0 = oy * sy, y1 = y0 + sy;
      for (var ox = 0; ox < w; ox++) {
        var x0 = ox * sx, x1 = x0 + sx, r = 0, g = 0, bl = 0, wsum = 0;
        for (var y = Math.floor(y0); y < Math.ceil(y1) && y < height; y++) {
          var wy = Math.min(y + 1, y1) - Math.max(y, y0);
          for (var x = Math.floor(x0); x < Math.ceil(x1) && x < width; x++) {
            var wgt = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
            var p = (y * width + x) * 4;
            r += data[p] * wgt; g += data[p + 1] * wgt; bl += data[p + 2] * wgt; wsum += wgt;
          }
        }
        var q = (oy * w + ox) * 4;
        out[q] = r / wsum; out[q + 1] = g / wsum; out[q + 2] = bl / wsum; out[q + 3] = 255;
      }
    }
    return out;
  }

  /** Apply the preprocessing, then hash. `data` is RGBA at the decoded size. */
  function hashRGBA(data, width, height) {
    var size = thumbnailSize(width, height);
    if (size[0] !== width || size[1] !== height) {
      data = downscale(data, width, height, size[0], size[1]);
      width = size[0]; height = size[1];
    }
    var r = hashPixels(data, width, height, 4);
    r.preprocessing = PREPROCESSING;
    return r;
  }

  /** Browser only: decode a File/Blob locally (EXIF orientation applied) and hash it. */
  function hashFile(file) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var canvas = document.createElement("canvas");
      canvas.width = bmp.width; canvas.height = bmp.height;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(bmp, 0, 0);
      var img = ctx.getImageData(0, 0, bmp.width, bmp.height);
      if (bmp.close) bmp.close();
      return hashRGBA(img.data, img.width, img.height);
    });
  }

  var api = {
    hashPixels: hashPixels, hashRGBA: hashRGBA, hashFile: hashFile,
    thumbnailSize: thumbnailSize, PREPROCESSING: PREPROCESSING
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.RingtracePDQ = api;
})(this);
