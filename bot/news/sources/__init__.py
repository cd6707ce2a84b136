"""Where news comes from besides the articles folder: feeds and links, fetched safely over HTTP.

`http` fetches (timeouts, size cap, redirects, content types, the address guard), `feeds` reads RSS,
Atom and JSON Feed, `pages` extracts an article from a news page, `urls` normalises links, and
`poller` polls the feeds in the background. Every source hands a `RawArticle` to `bot.news.pipeline`.
"""
