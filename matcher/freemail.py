"""Consumer mail domains, whose addresses identify no organisation.

A provider may write from a personal Gmail or Comcast address, so these
domains never count as a practice's domain.  An exact address at one of them
that is listed on a source still counts.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google, Microsoft, Apple, Yahoo, AOL
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "passport.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "yahoo.com",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "aim.com",
        "verizon.net",
        # United States internet and telephone providers
        "comcast.net",
        "xfinity.com",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "pacbell.net",
        "swbell.net",
        "ameritech.net",
        "flash.net",
        "prodigy.net",
        "charter.net",
        "spectrum.net",
        "rr.com",
        "twc.com",
        "roadrunner.com",
        "cox.net",
        "earthlink.net",
        "mindspring.com",
        "juno.com",
        "netzero.net",
        "netzero.com",
        "optonline.net",
        "optimum.net",
        "frontier.com",
        "frontiernet.net",
        "windstream.net",
        "centurylink.net",
        "centurytel.net",
        "embarqmail.com",
        "q.com",
        "qwest.net",
        "suddenlink.net",
        "mediacombb.net",
        "wowway.com",
        "cableone.net",
        "sonic.net",
        "ptd.net",
        "epix.net",
        "hughes.net",
        "gci.net",
        "tds.net",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "videotron.ca",
        "telus.net",
        # Independent and privacy-focused providers
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "fastmail.com",
        "fastmail.fm",
        "hushmail.com",
        "zoho.com",
        "zohomail.com",
        "mail.com",
        "email.com",
        "usa.com",
        "inbox.com",
        "hey.com",
        "duck.com",
        "mailfence.com",
        "posteo.de",
        "runbox.com",
        "startmail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "hanmail.net",
        "rediffmail.com",
        # Forwarding and disposable addresses
        "privaterelay.appleid.com",
        "mailinator.com",
        "guerrillamail.com",
    }
)

# Brands that run the same consumer service under many country domains
# (yahoo.co.uk, hotmail.fr, outlook.de): any domain whose second-level label
# is one of these is treated as consumer mail.
FREE_MAIL_BRANDS: frozenset[str] = frozenset(
    {"gmail", "yahoo", "ymail", "hotmail", "outlook", "live", "aol", "gmx", "yandex"}
)

# Second-level labels that sit between a brand and a country code, as in
# yahoo.co.uk or hotmail.com.br.
_COUNTRY_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ne", "or"})


def is_free_mail_domain(domain: str) -> bool:
    """Tell whether a lower-case domain belongs to a consumer mail service.

    Subdomains count too, so "nc.rr.com" is consumer mail like "rr.com".
    """
    labels = domain.split(".")
    for start in range(len(labels) - 1):
        if ".".join(labels[start:]) in FREE_MAIL_DOMAINS:
            return True
    return _registered_label(labels) in FREE_MAIL_BRANDS


def _registered_label(labels: list[str]) -> str:
    """Return the label just left of the public suffix, as best guessed.

    NOTE: a two-label country suffix is recognised only for the common
    second levels above.  That is enough for the brand check, the only
    caller.
    """
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and labels[-2] in _COUNTRY_SECOND_LEVELS:
        return labels[-3]
    return labels[-2]
