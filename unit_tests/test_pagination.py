"""Metronome's three paging styles: where the page size and token go, and where the next token is."""

import json

from source_metronome.streams.pagination import CURSOR_IN_BODY, NEXT_PAGE_IN_BODY, NEXT_PAGE_IN_QUERY


class TestNextPageInQuery:
    def test_first_page_sends_only_the_limit_in_the_query(self):
        assert NEXT_PAGE_IN_QUERY.query(100, None) == {"limit": 100}
        assert NEXT_PAGE_IN_QUERY.body(100, None) == {}

    def test_next_page_sends_the_token_in_the_query(self):
        assert NEXT_PAGE_IN_QUERY.query(100, "t2") == {"limit": 100, "next_page": "t2"}

    def test_a_null_or_empty_token_ends_the_list(self):
        assert NEXT_PAGE_IN_QUERY.next_token({"data": [], "next_page": None}) is None
        assert NEXT_PAGE_IN_QUERY.next_token({"data": [], "next_page": ""}) is None


class TestNextPageInBody:
    def test_limit_and_token_go_in_the_body(self):
        assert NEXT_PAGE_IN_BODY.query(25, "t2") == {}
        assert NEXT_PAGE_IN_BODY.body(25, "t2") == {"limit": 25, "next_page": "t2"}


class TestCursorInBody:
    def test_limit_and_cursor_go_in_the_body(self):
        assert CURSOR_IN_BODY.body(20, "c2") == {"limit": 20, "cursor": "c2"}
        assert json.dumps(CURSOR_IN_BODY.body(20, None)) == '{"limit": 20}'

    def test_the_answer_cursor_is_the_next_token(self):
        assert CURSOR_IN_BODY.next_token({"data": [{}], "cursor": "c2"}) == "c2"
        assert CURSOR_IN_BODY.next_token({"data": [{}], "cursor": None}) is None
