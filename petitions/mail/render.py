"""HTML email post-processing."""

import css_inline

# Mail clients drop <style> blocks; css-inline moves the rules onto each element.
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return _inliner.inline(html)
