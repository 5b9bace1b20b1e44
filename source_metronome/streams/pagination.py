"""Where a Metronome list endpoint takes its page size and page token, and where its answer carries
the next token. Metronome has three styles; everything else about pages is the same (a `data` list).
"""

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

QUERY = "query"
BODY = "body"


@dataclass(frozen=True)
class Pagination:
    # Where `limit` and the page token go in the request: the query string or the JSON body.
    sent_in: str
    # The token's name in the request and in the answer.
    token: str = "next_page"

    def query(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        return self._fields(page_size, token) if self.sent_in == QUERY else {}

    def body(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        return self._fields(page_size, token) if self.sent_in == BODY else {}

    def next_token(self, page: Mapping[str, Any]) -> Optional[str]:
        """The token of the next page; None or empty when this was the last page."""
        return page.get(self.token) or None

    def _fields(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        return {"limit": page_size, self.token: token} if token else {"limit": page_size}


# Most endpoints: `limit` and `next_page` in the query, with every other parameter (and the POST
# body) unchanged (https://docs.metronome.com/api-reference, "Pagination").
NEXT_PAGE_IN_QUERY = Pagination(sent_in=QUERY)
# POST /v1/contracts/customerBalances/list takes both in its JSON body.
NEXT_PAGE_IN_BODY = Pagination(sent_in=BODY)
# POST /v2/contracts/list: body `limit` and `cursor`, and the answer's `cursor` is the next page's.
CURSOR_IN_BODY = Pagination(sent_in=BODY, token="cursor")
