"""Where a Metronome list endpoint takes its page size and page token, and where its answer carries
the next token. Metronome has three styles, a list without a page size and lists answered whole;
everything else about pages is the same (a `data` list).
"""

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

QUERY = "query"
BODY = "body"
# Answered whole, in one `{"data": [...]}`: nothing about pages is sent.
WHOLE = "whole"


@dataclass(frozen=True)
class Pagination:
    # Where `limit` and the page token go in the request: the query string or the JSON body.
    sent_in: str
    # The token's name in the request and in the answer.
    token: str = "next_page"
    # Whether the endpoint takes `limit` at all (metronome-sdk sends none to some lists).
    takes_limit: bool = True

    def query(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        return self._fields(page_size, token) if self.sent_in == QUERY else {}

    def body(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        return self._fields(page_size, token) if self.sent_in == BODY else {}

    def next_token(self, page: Mapping[str, Any]) -> Optional[str]:
        """The token of the next page; None or empty when this was the last page."""
        if self.sent_in == WHOLE:
            return None
        return page.get(self.token) or None

    def _fields(self, page_size: int, token: Optional[str]) -> Dict[str, Any]:
        fields: Dict[str, Any] = {"limit": page_size} if self.takes_limit else {}
        return {**fields, self.token: token} if token else fields


# Most endpoints: `limit` and `next_page` in the query, with every other parameter (and the POST
# body) unchanged (https://docs.metronome.com/api-reference, "Pagination").
NEXT_PAGE_IN_QUERY = Pagination(sent_in=QUERY)
# POST /v1/contracts/customerBalances/list takes both in its JSON body.
NEXT_PAGE_IN_BODY = Pagination(sent_in=BODY)
# POST /v2/contracts/list: body `limit` and `cursor`, and the answer's `cursor` is the next page's.
CURSOR_IN_BODY = Pagination(sent_in=BODY, token="cursor")
# POST /v1/customer-alerts/list: `next_page` in the query and no `limit` (metronome-sdk's
# SyncCursorPageWithoutLimit; the SDK's `alerts.list` takes no limit).
NEXT_PAGE_IN_QUERY_WITHOUT_LIMIT = Pagination(sent_in=QUERY, takes_limit=False)
# POST /v2/contracts/getEditHistory and /v1/getCustomerBillingProviderConfigurations take no page
# parameters and answer every item at once (the SDK's `_post` with no page class).
UNPAGED = Pagination(sent_in=WHOLE)
