"""One person, one signature: the canonical form of an email address."""

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def canonical_email(address: str) -> str:
    """Lower-case, drop a +tag; for Gmail also drop dots and treat googlemail.com as gmail.com.

    "Jane.Doe+petition@GoogleMail.com" -> "janedoe@gmail.com"
    """
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
