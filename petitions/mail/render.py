"""HTML email post-processing: CSS inlined, and no line too long for SMTP."""

import re

import css_inline

# Mail clients drop <style> blocks; css-inline moves the rules onto each element.
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

# RFC 5321's limit on a line, CRLF excluded. Quoted-printable keeps the wire within it
# whatever we write, but a relay or filter that re-encodes the body, or a DKIM signer
# that canonicalises it, sees our lines as they are.
MAX_LINE = 998
# Where a line over the limit is re-broken: short enough to read as source.
FOLD_WIDTH = 78

_TAG = re.compile(r"(<[^>]*>)")
# Elements whose whitespace is shown as written: a newline there would show.
_VERBATIM = re.compile(r"<(/?)(pre|textarea|script|style)\b", re.IGNORECASE)


def inline_css(html: str) -> str:
    return fold_long_lines(_inliner.inline(html))


def fold_long_lines(html: str) -> str:
    """Break every line longer than MAX_LINE at spaces between words, which HTML
    renders the same as a newline. Spaces inside tags (attribute values), and inside
    <pre> and the like, are left alone; a line with no other space stays long.

    Lines within the limit are never touched, so a body rendered with placeholders and
    filled in afterwards (the send-time renderers) matches one rendered in full.
    """
    lines = html.split("\n")
    if all(len(line) <= MAX_LINE for line in lines):
        return html
    verbatim = 0
    folded = []
    for line in lines:
        fold = len(line) > MAX_LINE
        pieces: list[str] = []
        column = 0
        for token in _TAG.split(line):
            if token.startswith("<") and token.endswith(">"):
                if (element := _VERBATIM.match(token)) is not None:
                    verbatim = max(0, verbatim - 1) if element.group(1) else verbatim + 1
                pieces.append(token)
                column += len(token)
            elif not fold or verbatim:
                pieces.append(token)
                column += len(token)
            else:
                for index, word in enumerate(token.split(" ")):
                    if index:
                        if column + 1 + len(word) > FOLD_WIDTH and column > 0:
                            pieces.append("\n")
                            column = 0
                        else:
                            pieces.append(" ")
                            column += 1
                    pieces.append(word)
                    column += len(word)
        folded.append("".join(pieces))
    return "\n".join(folded)
