"""The fetcher against the local web stand-in: limits, redirects, types, conditional GET, the address guard."""

from __future__ import annotations

import contextlib
import threading

import pytest

from bot.news.sources.address_guard import AddressPolicy, RefusedAddress
from bot.news.sources.http import USER_AGENT, Fetcher, FetchError


def test_a_page_is_fetched_with_our_user_agent(web, fetcher):
    response = fetcher.fetch(web.url("/ledger/2025/02/le-chat-downloads.html"))
    assert response.status == 200 and response.content_type == "text/html"
    assert "Le Chat passes one million downloads" in response.text()
    assert web.requested("/ledger/2025/02/le-chat-downloads.html")[-1]["headers"]["User-Agent"] == USER_AGENT


def test_conditional_get_gets_304_with_the_etag_or_the_date(web, fetcher):
    first = fetcher.fetch(web.url("/feeds/ledger.rss"))
    assert first.etag and first.last_modified
    assert fetcher.fetch(web.url("/feeds/ledger.rss"), etag=first.etag).not_modified
    assert fetcher.fetch(web.url("/feeds/ledger.rss"), last_modified=first.last_modified).not_modified
    assert not fetcher.fetch(web.url("/feeds/ledger.rss"), etag='"other"').not_modified


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/quirks/huge.html", "too_big"),  # refused from Content-Length
        ("/quirks/huge-chunked.html", "too_big"),  # refused while reading
        ("/quirks/hang.html", "timeout"),
        ("/quirks/binary.html", "binary"),
        ("/quirks/binary-typed.html", "bad_type"),
        ("/quirks/loop-a.html", "redirects"),
        ("/nowhere.html", "http"),
    ],
)
def test_hostile_responses_are_refused_with_a_reason(web, fetcher, path, kind):
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(web.url(path))
    assert refused.value.kind == kind and str(refused.value)


def test_a_page_that_trickles_forever_is_cut_off_at_the_deadline(web):
    body = "<html><body>" + "<p>still loading</p>" * 10
    web.put("/slow/trickle.html", body)
    fetcher = Fetcher(timeout=1.0, deadline=0.0)  # any read after the first chunk is past the deadline
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(web.url("/slow/trickle.html"))
    assert refused.value.kind == "timeout"


def test_headers_that_trickle_forever_are_cut_off_at_the_deadline(web):
    fetcher = Fetcher(timeout=1.0, deadline=1.0)
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(web.url("/quirks/trickle.html"))
    assert refused.value.kind == "timeout"


def test_redirects_are_followed_up_to_five(web, fetcher):
    response = fetcher.fetch(web.url("/quirks/moved.html"))
    assert response.url == web.url("/ledger/2025/02/le-chat-downloads.html")
    assert len(web.requested("/quirks/loop-a.html")) >= 1
    before = len(web.requested("/quirks/loop-a.html")) + len(web.requested("/quirks/loop-b.html"))
    with pytest.raises(FetchError):
        fetcher.fetch(web.url("/quirks/loop-a.html"))
    after = len(web.requested("/quirks/loop-a.html")) + len(web.requested("/quirks/loop-b.html"))
    assert after - before == 6  # the first request and five redirects


def test_a_page_in_latin_1_is_decoded_from_its_meta_charset(web, fetcher):
    response = fetcher.fetch(web.url("/latin/2025/05/latin1-fr.html"))
    assert response.charset is None
    assert "Mistral AI ouvre un bureau à Singapour" in response.text()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.html",
        "http://localhost:9/x.html",
        "http://10.1.2.3/x.html",
        "http://192.168.0.1/x.html",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/x.html",
        "http://0.0.0.0:9/x.html",
        "http://100.64.0.1/x.html",
        "http://[::ffff:127.0.0.1]:9/",
    ],
)
def test_public_only_fetches_refuse_local_addresses_before_connecting(fetcher, url):
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(url, public_only=True)
    assert refused.value.kind == "refused"
    assert fetcher.requests == 0


def test_a_redirect_to_a_local_address_is_refused(web):
    fetcher = Fetcher(timeout=1.0, allowed_hosts=frozenset({web.base.removeprefix("http://")}))
    count = len(web.requested("/ledger/2025/02/le-chat-downloads.html"))
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(web.url("/quirks/to-localhost.html"), public_only=True)
    assert refused.value.kind == "refused" and "loopback" in str(refused.value)
    assert len(web.requested("/ledger/2025/02/le-chat-downloads.html")) == count


def test_the_operator_may_fetch_local_addresses(web, fetcher):
    assert fetcher.fetch(web.url("/quirks/to-localhost.html")).status == 200


def test_every_address_of_a_name_is_checked():
    policy = AddressPolicy(public_only=True)
    with pytest.raises(RefusedAddress):
        policy.addresses("localhost", 80)  # ::1 and 127.0.0.1


def test_only_http_and_https_are_fetched(fetcher):
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "http://user:pw@example.com/"):
        with pytest.raises(FetchError) as refused:
            fetcher.fetch(url)
        assert refused.value.kind == "refused"


def test_never_two_requests_to_one_host_at_once(web):
    web.put("/slow/a.html", "<html><body>a</body></html>")
    fetcher = Fetcher(timeout=2.0, max_in_flight=4)

    def fetch(path: str) -> None:
        with contextlib.suppress(FetchError):  # the hanging page times out
            fetcher.fetch(web.url(path))

    threads = [threading.Thread(target=fetch, args=(path,)) for path in ("/quirks/hang.html", "/slow/a.html")]
    threads[0].start()
    while not web.requested("/quirks/hang.html"):
        threads[0].join(0.01)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive() and not web.requested("/slow/a.html")  # waits for the host
    for thread in threads:
        thread.join()
    assert web.requested("/slow/a.html")
