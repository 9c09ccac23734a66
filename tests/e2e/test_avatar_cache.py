"""A repeat page view downloads no avatar again: each has one stable URL,
served immutable, so the browser keeps it (issue 14, item 1).

Bytes are counted with Chromium's own network events (CDP): the first view
must fetch every avatar over the network, which shows the count is real;
the second must fetch none, and still show them all.
"""

from tests.e2e.page import USERS, wait_for_page


def avatar_network_bytes(page, cdp, visit):
    """Bytes received over the network for avatar images while `visit` runs,
    and how many avatar requests there were."""
    urls, received = {}, {}
    cdp.on(
        "Network.responseReceived",
        lambda event: (
            "/avatars/" in event["response"]["url"]
            and urls.setdefault(event["requestId"], event["response"]["url"])
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    visit()
    wait_for_page(page)
    page.wait_for_timeout(300)  # the last loadingFinished events
    return sum(received.get(request, 0) for request in urls), len(urls)


def test_a_second_page_view_downloads_no_avatar_again(browser, stack_url):
    context = browser.new_context()  # an empty cache
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        first_bytes, first_requests = avatar_network_bytes(page, cdp, lambda: page.goto(stack_url))
        srcs = page.locator("#users img.avatar").evaluate_all("imgs => imgs.map((i) => i.src)")
        assert len(srcs) == len(USERS)
        assert first_requests >= len(USERS)
        assert first_bytes > 1000

        second_bytes, _ = avatar_network_bytes(page, cdp, lambda: page.goto(stack_url))

        assert second_bytes == 0
        shown = page.locator("#users img.avatar").evaluate_all("imgs => imgs.map((i) => i.src)")
        assert shown == srcs
        assert errors == []
    finally:
        context.close()
