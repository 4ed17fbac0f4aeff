"""Deterministic benchmark corpus: 500 feeds (RSS 2.0, Atom, JSON Feed) and 200 newsletters.

Everything comes from one seeded random generator, so two runs on the same day produce the same
bytes. Dates are relative to the start of today (UTC) so tidings' default 7-day lookback keeps
most items, as it would for feeds a user really follows.

Layout written under OUT:
  feeds/NNN.xml | NNN.json   the feed bodies the HTTP server serves
  special.json               paths the server answers with a status instead of a body
  hosts.json                 feed number -> loopback host it is served from
  maildir/{cur,new,tmp}      the newsletters
  manifest.json              counts and sizes, for the report
"""

import datetime as dt
import email.policy
import email.utils
import json
import os
import random
from email.message import EmailMessage
from xml.sax.saxutils import escape

SEED = 20260328
FEEDS = 500
NEWSLETTERS = 200
# How many loopback hosts serve the feeds. Real subscriptions are spread over many sites with a
# few big platforms (Substack, Medium, GitHub) hosting several feeds each; tidings limits
# requests per host, so serving everything from one address would measure that limit, not the
# run. The big hosts come first; the rest of the feeds are spread over the small ones.
BIG_HOSTS = [40, 25, 15, 10, 10]
SMALL_HOSTS = 150

WORDS = """rust database cpu memory kernel compiler network latency cache storage cluster
release security patch browser protocol climate space physics energy battery solar ocean
election policy budget market inflation startup funding open source library framework python
linux windows android privacy encryption research study model data science health vaccine
city transit housing water drought festival museum film music novel history archive design
typography interface keyboard camera satellite rocket telescope galaxy planet quantum
semiconductor factory supply chain shipping port weather forecast storm river forest
migration labour union court ruling regulation antitrust platform moderation search index
query benchmark throughput outage incident postmortem migration upgrade deprecation roadmap
interview profile review analysis explainer guide tutorial opinion letter podcast episode
the a of and in on for with to from how why what new first last best inside behind after
under over about into against between during without""".split()
NAMES = """Ada Grace Linus Barbara Ken Dennis Margaret Alan Katherine Tim Radia Frances
Donald Edsger Leslie Sophie John Mary Ahmed Mei Ravi Lucia Tomas Ingrid Kofi Yuki""".split()
TRACKING = [
    "utm_source=rss&utm_medium=feed&utm_campaign={c}",
    "utm_source=feedburner&utm_medium=feed&utm_campaign=Feed%3A+{c}",
    "ref=rss",
    "mc_cid={h}&mc_eid={h2}",
    "fbclid=IwAR{h}{h2}",
    "",
    "",
    "id={n}&utm_source=rss",
]


def words(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def title(rng):
    t = words(rng, 5, 12)
    return t[0].upper() + t[1:]


def slug(text):
    return "-".join(text.lower().split()[:8])


def hexid(rng, n=10):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def tracked(rng, url, campaign):
    q = rng.choice(TRACKING).format(c=campaign, h=hexid(rng), h2=hexid(rng), n=rng.randint(1, 99999))
    return f"{url}?{q}" if q else url


def paragraph(rng):
    parts = []
    for _ in range(rng.randint(2, 5)):
        s = words(rng, 8, 22)
        roll = rng.random()
        if roll < 0.25:
            s += f' <a href="https://www.example-{rng.randint(1, 400)}.org/{slug(words(rng, 2, 4))}?utm_source=newsletter">{words(rng, 1, 3)}</a>'
        elif roll < 0.4:
            s = f"<em>{s}</em>"
        elif roll < 0.5:
            s = f"<strong>{s}</strong>"
        parts.append(s[0].upper() + s[1:] + ".")
    return "<p>" + " ".join(parts) + "</p>"


def description(rng):
    """A few hundred bytes to a few KB of the HTML publishers put in feeds."""
    n = max(1, min(12, int(rng.lognormvariate(0.25, 0.7))))
    html = "".join(paragraph(rng) for _ in range(n))
    if rng.random() < 0.3:
        html += f'<img src="https://pixel.example-track.com/p.gif?u={hexid(rng, 16)}" width="1" height="1">'
    if rng.random() < 0.15:
        html += f'<figure><img src="https://cdn.example-{rng.randint(1, 50)}.net/img/{hexid(rng)}.jpg" alt="{words(rng, 3, 6)}"><figcaption>{words(rng, 4, 10)}</figcaption></figure>'
    if rng.random() < 0.05:
        html += "<script>track('rss')</script>"
    if rng.random() < 0.2:
        html += f'<p>The post <a href="https://blog-{rng.randint(1, 500)}.example/">{words(rng, 3, 6)}</a> appeared first on {words(rng, 1, 3)}.</p>'
    return html


def rfc822(t):
    return email.utils.format_datetime(t)


def iso(t):
    return t.isoformat().replace("+00:00", "Z")


def feed_items(rng, base, site, campaign):
    n = 20 + int(40 * rng.random() ** 3)
    # Some sites post hourly, some weekly: items stretch back accordingly.
    spacing = dt.timedelta(minutes=rng.choice([20, 45, 90, 180, 360, 720, 1440, 2880]))
    items = []
    for j in range(n):
        t = title(rng)
        when = base - spacing * j - dt.timedelta(minutes=rng.randint(0, 59))
        url = f"https://{site}/{when:%Y/%m}/{slug(t)}-{j}"
        items.append(
            {
                "title": t,
                "link": tracked(rng, url, campaign),
                "guid": f"{site}-{hexid(rng, 12)}",
                "when": when,
                "author": f"{rng.choice(NAMES)} {rng.choice(NAMES)}son",
                "html": description(rng),
                "tags": sorted({rng.choice(WORDS) for _ in range(rng.randint(1, 4))}),
            }
        )
    return items


def rss(name, site, items):
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel>",
        f"<title>{escape(name)}</title>",
        f"<link>https://{site}/</link>",
        f"<description>{escape(name)}: news and notes</description>",
        "<language>en</language>",
        f"<lastBuildDate>{rfc822(items[0]['when'])}</lastBuildDate>",
    ]
    for it in items:
        out += [
            "<item>",
            f"<title>{escape(it['title'])}</title>",
            f"<link>{escape(it['link'])}</link>",
            f'<guid isPermaLink="false">{it["guid"]}</guid>',
            f"<pubDate>{rfc822(it['when'])}</pubDate>",
            f"<dc:creator>{escape(it['author'])}</dc:creator>",
            *[f"<category>{c}</category>" for c in it["tags"]],
            f"<description><![CDATA[{it['html']}]]></description>",
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def atom(name, site, items):
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(name)}</title>",
        f'<link href="https://{site}/" rel="alternate"/>',
        f'<link href="https://{site}/atom.xml" rel="self"/>',
        f"<id>https://{site}/</id>",
        f"<updated>{iso(items[0]['when'])}</updated>",
    ]
    for it in items:
        out += [
            "<entry>",
            f'<title type="html">{escape(it["title"])}</title>',
            f'<link href="{escape(it["link"])}" rel="alternate"/>',
            f"<id>tag:{site},2026:{it['guid']}</id>",
            f"<published>{iso(it['when'])}</published>",
            f"<updated>{iso(it['when'])}</updated>",
            f"<author><name>{escape(it['author'])}</name></author>",
            *[f'<category term="{c}"/>' for c in it["tags"]],
            f'<content type="html">{escape(it["html"])}</content>',
            "</entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


def json_feed(name, site, items):
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": name,
            "home_page_url": f"https://{site}/",
            "feed_url": f"https://{site}/feed.json",
            "items": [
                {
                    "id": it["guid"],
                    "url": it["link"],
                    "title": it["title"],
                    "content_html": it["html"],
                    "date_published": iso(it["when"]),
                    "authors": [{"name": it["author"]}],
                    "tags": it["tags"],
                }
                for it in items
            ],
        },
        indent=1,
    )


BROKEN_HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Welcome to our new website!</title></head>
<body><h1>We moved!</h1><p>Our blog now lives at a new address. Please update your bookmarks.</p>
</body></html>
"""


def newsletter(rng, n, base):
    sender = f"{title(rng).split()[0]} Weekly"
    domain = f"news-{n % 60}.example.com"
    when = base - dt.timedelta(hours=rng.randint(1, 24 * 6))
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f'"{sender}" <hello@{domain}>'
    msg["To"] = "reader@example.org"
    msg["Subject"] = f"{sender} #{rng.randint(10, 400)}: {title(rng)}"
    msg["Date"] = rfc822(when)
    msg["Message-ID"] = f"<{hexid(rng, 20)}.{n}@{domain}>"
    msg["List-Id"] = f"{sender} <weekly.{domain}>"
    msg["List-Unsubscribe"] = f"<https://{domain}/unsubscribe?u={hexid(rng, 24)}>, <mailto:unsub@{domain}>"
    msg["List-Post"] = "NO"
    stories = []
    for _ in range(rng.randint(6, 14)):
        t = title(rng)
        site = f"www.{rng.choice(WORDS)}-{rng.randint(1, 300)}.example"
        url = f"https://{site}/{slug(t)}?utm_source={domain}&utm_medium=email&utm_campaign=weekly_{n}&mc_cid={hexid(rng)}"
        stories.append((t, url, " ".join(words(rng, 15, 40).split())))
    if rng.random() < 0.4:
        text = [f"{sender}\nIssue of {when:%d %B %Y}\n\nView in your browser: https://{domain}/web?u={hexid(rng)}\n"]
        for t, url, blurb in stories:
            text.append(f"{t}\n{url}\n{blurb[0].upper() + blurb[1:]}.\n")
        text.append(f"--\nYou are receiving this because you subscribed.\nUnsubscribe: https://{domain}/unsubscribe?u={hexid(rng, 24)}\n")
        msg.set_content("\n".join(text))
    else:
        track = f"https://click.{domain}/open.gif?u={hexid(rng, 24)}"
        rows = []
        for t, url, blurb in stories:
            click = f"https://click.{domain}/c/{hexid(rng, 32)}?u={url}"
            rows.append(
                f'<tr><td style="padding:12px 24px;font-family:Georgia,serif">'
                f'<h2 style="font-size:20px;margin:0 0 6px"><a href="{escape(url)}" style="color:#1a1a1a;text-decoration:none">{escape(t)}</a></h2>'
                f'<p style="font-size:15px;line-height:1.5;color:#333">{escape(blurb)}. <a href="{escape(click)}">Read more</a></p>'
                "</td></tr>"
            )
        html = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0} .wrap{max-width:600px}</style></head>'
            f'<body><table class="wrap" role="presentation" width="100%"><tr><td><a href="https://{domain}/web?u={hexid(rng)}">View in browser</a></td></tr>'
            f'<tr><td><h1 style="font-family:Helvetica">{escape(sender)}</h1></td></tr>'
            + "".join(rows)
            + f'<tr><td><a href="https://twitter.com/share?url=https://{domain}/">Share on Twitter</a> | '
            f'<a href="https://{domain}/preferences?u={hexid(rng, 24)}">Preferences</a> | '
            f'<a href="https://{domain}/unsubscribe?u={hexid(rng, 24)}">Unsubscribe</a></td></tr>'
            f'</table><img src="{track}" width="1" height="1" alt=""></body></html>'
        )
        text = "\n\n".join(f"{t}\n{url}\n{blurb}." for t, url, blurb in stories)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    return msg, when, len(stories)


def generate(out, today=None):
    rng = random.Random(SEED)
    base = today or dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    feeds_dir = os.path.join(out, "feeds")
    os.makedirs(feeds_dir, exist_ok=True)

    hosts = []
    for h, count in enumerate(BIG_HOSTS):
        hosts += [h] * count
    hosts += [len(BIG_HOSTS) + i % SMALL_HOSTS for i in range(FEEDS - len(hosts))]
    rng.shuffle(hosts)

    broken = {7: "malformed", 111: "html", 222: "status500", 333: "empty", 444: "status404"}
    special = {}
    paths = []
    items_total = feed_bytes = 0
    kinds = {"rss": 0, "atom": 0, "json": 0}
    for i in range(FEEDS):
        site = f"site-{i:03}.example.com"
        name = f"{title(rng).split()[0]} {rng.choice(['Journal', 'Blog', 'Daily', 'Notes', 'Review', 'Times', 'Digest'])} {i}"
        items = feed_items(rng, base, site, slug(name))
        roll = rng.random()
        kind = "rss" if roll < 0.55 else "atom" if roll < 0.85 else "json"
        body = {"rss": rss, "atom": atom, "json": json_feed}[kind](name, site, items)
        path = f"feeds/{i:03}.{'json' if kind == 'json' else 'xml'}"
        what = broken.get(i)
        if what == "malformed":
            body = body[: len(body) // 2] + "<item><title>unclosed & broken</titl></channel>"
        elif what == "html":
            body = BROKEN_HTML_PAGE
        elif what == "empty":
            body = ""
        elif what in ("status500", "status404"):
            special["/" + path] = int(what[-3:])
        if what is None:
            items_total += len(items)
            kinds[kind] += 1
        data = body.encode()
        feed_bytes += len(data)
        with open(os.path.join(out, path), "wb") as f:
            f.write(data)
        paths.append(path)

    maildir = os.path.join(out, "maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    mail_bytes = stories = 0
    for n in range(NEWSLETTERS):
        msg, when, count = newsletter(rng, n, base)
        data = msg.as_bytes()
        mail_bytes += len(data)
        stories += count
        name = f"{int(when.timestamp())}.M{n}P1.bench:2,S"
        with open(os.path.join(maildir, "cur", name), "wb") as f:
            f.write(data)

    manifest = {
        "date": base.date().isoformat(),
        "feeds": FEEDS,
        "broken_feeds": sorted(broken.values()),
        "kinds": kinds,
        "feed_items": items_total,
        "feed_bytes": feed_bytes,
        "newsletters": NEWSLETTERS,
        "newsletter_stories": stories,
        "newsletter_bytes": mail_bytes,
        "hosts": len(BIG_HOSTS) + SMALL_HOSTS,
    }
    with open(os.path.join(out, "special.json"), "w") as f:
        json.dump(special, f)
    with open(os.path.join(out, "hosts.json"), "w") as f:
        json.dump({"paths": paths, "hosts": hosts}, f)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


if __name__ == "__main__":
    import sys

    print(json.dumps(generate(sys.argv[1]), indent=1))
