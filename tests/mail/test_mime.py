import email
import email.policy
import quopri

from petitions.mail.mime import Attachment, compose, quoted_printable


def test_encoding_a_head_and_a_tail_apart_decodes_like_the_whole():
    head = "<p>" + "é" * 300 + "</p>\n<p>" + "x" * 500 + "</p>\n"
    tail = '<a href="https://petitions.example.org/subscription/1-abc.sig">Unsubscribe</a>\n'

    joined = quoted_printable(head) + quoted_printable(tail)

    assert quopri.decodestring(joined).decode() == (head + tail).replace("\n", "\r\n")
    assert max(len(line) for line in joined.split(b"\r\n")) <= 76
    assert b"\n" not in joined.replace(b"\r\n", b"")


def test_composed_message_parses_with_both_parts_and_encoded_headers():
    raw = compose(
        [("From", "Peticiones <p@example.org>"), ("To", "ana@example.org"),
         ("Subject", "Firma la petición – ya")],
        "Hola\n.una línea con punto\n",
        quoted_printable("<p>" + "y" * 3000 + "</p>\n"),
    )

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Firma la petición – ya"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == (
        "Hola\n.una línea con punto\n")
    assert message.get_body(("html",)).get_content().strip() == "<p>" + "y" * 3000 + "</p>"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_attachments_wrap_the_alternatives_in_multipart_mixed_with_short_base64_lines():
    data = ("name,comment\r\nJosé Núñez,=SUM(A1)\r\n" * 200).encode("utf-8")
    raw = compose([("From", "a@example.org"), ("Subject", "Delivered")], "Text ñ", "<p>HTML</p>",
                  (Attachment("signers.csv", "text/csv; charset=utf-8", data),))

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)).get_content() == "Text ñ"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "signers.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == data
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_without_attachments_the_message_stays_multipart_alternative():
    raw = compose([("From", "a@example.org")], "t", "<p>h</p>")
    assert email.message_from_bytes(raw).get_content_type() == "multipart/alternative"
