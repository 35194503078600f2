"""RSS 2.0, Atom and JSON documents as the news site (and others) publish them."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

CATEGORY = "Immigration Policy & Border Issues"


def rss_item(title: str, link: str | None, guid: str | None = None,
             category: str | None = CATEGORY, pub_date: str | None = "Sat, 16 Aug 2025 23:58:22 +0000",
             description: str = "") -> str:
    parts = [f"<title>{escape(title)}</title>"]
    if link:
        parts.append(f"<link>{escape(link)}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if category:
        parts.append(f"<category>{escape(category)}</category>")
    if pub_date:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    if description:
        parts.append(f"<description>{escape(description)}</description>")
    return "<item>" + "".join(parts) + "</item>"


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Truth and Resistance</title><link>https://truthandresistance.example/</link>"
        "<description>News</description>" + "".join(items) + "</channel></rss>"
    ).encode()


NEWS_RSS = rss(
    rss_item("DC Police to Notify ICE When They Encounter Illegal Aliens",
             "https://truthandresistance.example/articles/dc-police-ice", guid="tr-1001",
             description="<p>DC&#8217;s police chief ordered that officers may share "
                         "information with ICE.</p>"),
    rss_item("Man dies fleeing ICE raid in California: officials",
             "https://truthandresistance.example/articles/ice-raid", guid="tr-1002",
             pub_date="Sat, 16 Aug 2025 18:00:00 -0400"),
    rss_item("No link here", None, guid="tr-1003"),
)

NEWS_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://border.example/">
  <title>Border Desk</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2025-08-17T09:00:00Z</updated>
  <entry>
    <title type="html">Report: ICE plans to &lt;em&gt;double&lt;/em&gt; detention space</title>
    <link rel="alternate" href="https://border.example/ice-detention"/>
    <id>tag:border.example,2025:1</id>
    <published>2025-08-17T05:00:00-04:00</published>
    <updated>2025-08-17T08:00:00Z</updated>
    <category term="immigration-policy-border-issues" label="Immigration Policy &amp; Border Issues"/>
    <summary type="html">&lt;p&gt;Space for &lt;b&gt;more&lt;/b&gt; detainees.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Circuit court weighs Remain in Mexico</title>
    <link href="/remain-in-mexico"/>
    <id>tag:border.example,2025:2</id>
    <updated>2025-08-16T12:00:00Z</updated>
    <category term="courts"/>
    <content type="text">Judges &lt;asked&gt; hard questions.</content>
  </entry>
  <entry>
    <title>Undated entry</title>
    <link href="https://border.example/undated"/>
    <id>tag:border.example,2025:3</id>
    <category term="courts"/>
  </entry>
</feed>
"""


def json_articles(*articles) -> bytes:
    return json.dumps(list(articles)).encode()
