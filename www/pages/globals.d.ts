// hls.js is loaded by watch.html as a classic script (www/vendor/hls.min.js, copied from npm by
// www/build.sh): the viewer uses its global, typed by the package's own declarations.
declare const Hls: typeof import('hls.js').default;
