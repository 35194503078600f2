# Sourced by bin/test: what the tests use from outside PyPI.
# - Debian packages: pdftotext (poppler-utils) reads the delivery PDFs; Chromium runs the
#   browser tests (tests/browser), npm installs their axe-core; SpamAssassin scores every
#   kind of email we send (tests/mail, network tests off).
# - axe-core from npm, at the version tests/browser/package-lock.json records.
# Installed when missing and we are root; otherwise the tests that need them skip outside
# CI, and fail in CI.
missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v spamassassin >/dev/null 2>&1 || missing+=(spamassassin)
# spamd scores a message in milliseconds once started; the spamassassin command takes seconds.
command -v spamd >/dev/null 2>&1 || missing+=(spamd spamc)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
    || echo "could not install ${missing[*]}" >&2
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null \
    || echo "could not install axe-core (npm ci --prefix tests/browser)" >&2
fi
