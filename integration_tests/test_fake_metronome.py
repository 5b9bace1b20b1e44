"""The fake is our reading of Metronome's API: these tests pin that reading down (its rules on
tokens, pages and what it refuses, what it answers, and the ground truth computed from its dataset
agreeing with what it serves). Its test knobs (faults, latency, the request log) are proven by the
tests that use them, not restated here."""

import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest
import requests

from integration_tests.fake_metronome import (
    BILLABLE_METRICS,
    COST_LINE_ITEMS,
    COSTS,
    CUSTOMERS,
    DEFAULT_NOW,
    USAGE,
    DatasetOptions,
    FakeMetronome,
    expected_records,
)
from integration_tests.fake_metronome.timestamps import format_timestamp, parse_timestamp

OPTIONS = DatasetOptions(customers=4, metrics_per_customer=3, days_of_history=6, archived_share=0.5)
DAY = {"starting_on": "2024-03-13T00:00:00+00:00", "ending_before": "2024-03-15T00:00:00+00:00"}


class Client:
    def __init__(self, fake: FakeMetronome, token: Optional[str] = None):
        self.url = fake.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or fake.token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=10)

    def usage(self, body: Dict[str, Any], **params: Any) -> requests.Response:
        return self.session.post(self.url + "/v1/usage/groups", params=params, json=body, timeout=10)

    def every_item(self, path: str, body: Optional[Dict[str, Any]] = None, **params: Any) -> List[Dict[str, Any]]:
        """All pages' data, following next_page (a POST when a body is given)."""
        items: List[Dict[str, Any]] = []
        while True:
            response = self.usage(body, **params) if body is not None else self.get(path, **params)
            response.raise_for_status()
            page = response.json()
            items += page["data"]
            if not page["next_page"]:
                return items
            params["next_page"] = page["next_page"]


@pytest.fixture
def fake(start_fake) -> FakeMetronome:
    return start_fake(OPTIONS)


@pytest.fixture
def client(fake) -> Client:
    return Client(fake)


def metric_with(fake: FakeMetronome, aggregation_type: Optional[str] = None, key: Optional[str] = None):
    """The first (customer, metric) on a plan with that aggregation and/or group key."""
    for customer in fake.dataset.customers:
        for metric in fake.dataset.metrics_of(customer):
            if (aggregation_type is None or metric.aggregation_type == aggregation_type) and (key is None or key in metric.group_keys):
                return customer, metric
    raise AssertionError(f"the dataset has no {aggregation_type} metric with key {key}")


def usage_body(customer, metric, window_size: str = "DAY", **extra: Any) -> Dict[str, Any]:
    return {"customer_id": customer.id, "billable_metric_id": metric.id, "window_size": window_size, **DAY, **extra}


def compound_metric(fake: FakeMetronome):
    """The first (customer, metric) on a plan whose metric has a compound group key."""
    return next(
        (customer, metric) for customer in fake.dataset.customers for metric in fake.dataset.metrics_of(customer) if len(metric.group_keys) > 1
    )


def current_period_body(customer, metric, window_size: str = "DAY", **extra: Any) -> Dict[str, Any]:
    return {"customer_id": customer.id, "billable_metric_id": metric.id, "window_size": window_size, "current_period": True, **extra}


def served_usage(client: Client, partition: Dict[str, Any], body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A partition's usage items as served, with its customer_id and billable_metric_id, as a connector adds them."""
    return [{**item, **partition} for item in client.every_item("/v1/usage/groups", {**partition, **body})]


def without_connector_fields(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{key: value for key, value in record.items() if key not in ("billable_metric_name", "window_size", "group_id")} for record in records]


class TestAuth:
    @pytest.mark.parametrize("token", ["", "not-the-token"], ids=["no_token", "wrong_token"])
    def test_given_no_valid_bearer_token_then_401_with_a_message(self, fake, token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        response = requests.get(fake.url + "/v1/customers", headers=headers, timeout=10)

        assert response.status_code == 401
        assert response.json()["message"]


class TestPagination:
    def test_given_no_limit_then_pages_hold_100_items(self, fake, client):
        customer, metric = metric_with(fake, "COUNT")
        body = usage_body(customer, metric, "HOUR", starting_on="2024-03-09T00:00:00+00:00")

        first = client.usage(body).json()
        second = client.usage(body, next_page=first["next_page"]).json()

        assert len(first["data"]) == 100
        assert len(second["data"]) == 6 * 24 - 100
        assert second["next_page"] is None

    def test_given_a_next_page_token_then_only_its_own_query_accepts_it(self, fake, client):
        customer, metric = metric_with(fake)
        token = client.usage(usage_body(customer, metric), limit=1).json()["next_page"]

        same = client.usage(usage_body(customer, metric), limit=1, next_page=token)
        other_body = client.usage(usage_body(customer, metric, "HOUR"), limit=1, next_page=token)
        other_limit = client.usage(usage_body(customer, metric), limit=2, next_page=token)
        forged = client.usage(usage_body(customer, metric), limit=1, next_page="bm90LWEtdG9rZW4")

        assert same.status_code == 200
        assert same.json()["data"][0]["starting_on"] == "2024-03-14T00:00:00+00:00"
        assert (other_body.status_code, other_limit.status_code, forged.status_code) == (400, 400, 400)
        assert "next_page" in other_body.json()["message"]


class TestValidation:
    @pytest.mark.parametrize(
        "starting_on, ending_before",
        [
            ("2024-03-13T01:00:00+00:00", "2024-03-15T00:00:00+00:00"),
            ("2024-03-13T00:00:00+00:00", "2024-03-14T12:00:00+00:00"),
            ("2024-03-13T00:00:00+00:00", "2024-03-13T00:00:00+00:00"),
            ("2024-03-13T00:00:00+01:00", "2024-03-15T00:00:00+01:00"),
            ("yesterday", "2024-03-15T00:00:00+00:00"),
        ],
        ids=["start_not_midnight", "end_not_midnight", "empty_range", "midnight_in_another_zone", "not_a_timestamp"],
    )
    def test_given_a_range_off_utc_midnights_or_under_a_day_then_400(self, fake, client, starting_on, ending_before):
        customer, metric = metric_with(fake)
        dates = {"starting_on": starting_on, "ending_before": ending_before}

        usage = client.usage({**usage_body(customer, metric, "HOUR"), **dates})
        costs = client.get(f"/v1/customers/{customer.id}/costs", **dates)

        assert (usage.status_code, costs.status_code) == (400, 400)
        assert usage.json()["message"] and costs.json()["message"]

    def test_given_unknown_customers_metrics_or_paths_then_404_with_a_message(self, fake, client):
        customer, metric = metric_with(fake)
        unknown = "00000000-0000-4000-8000-000000000000"

        answers = [
            client.get(f"/v1/customers/{unknown}/billable-metrics"),
            client.get(f"/v1/customers/{unknown}/costs", **DAY),
            client.usage({**usage_body(customer, metric), "customer_id": unknown}),
            client.usage({**usage_body(customer, metric), "billable_metric_id": unknown}),
            client.get("/v1/invoices"),
        ]

        assert [answer.status_code for answer in answers] == [404] * 5
        assert all(answer.json()["message"] for answer in answers)

    def test_given_a_lower_case_window_size_then_accepted_and_unknown_sizes_are_not(self, fake, client):
        customer, metric = metric_with(fake)

        lower = client.usage(usage_body(customer, metric, "day"))
        unknown = client.usage(usage_body(customer, metric, "WEEK"))

        assert lower.status_code == 200
        assert unknown.status_code == 400

    def test_given_a_group_by_key_the_metric_lacks_then_400_with_a_message(self, fake, client):
        customer, metric = next(
            (customer, metric) for customer in fake.dataset.customers for metric in fake.dataset.metrics_of(customer) if "tier" not in metric.group_keys
        )

        response = client.usage(usage_body(customer, metric, group_by={"key": "tier"}))

        assert response.status_code == 400
        assert "tier" in response.json()["message"]

    @pytest.mark.parametrize(
        "grouping",
        [
            {"group_by": {"key": "region"}, "group_key": ["region"]},
            {"group_by": {"key": "region"}, "group_filters": {"region": ["region-a"]}},
            {"group_key": ["region", "tier"]},
            {"group_key": ["region", "cluster", "region"]},
            {"group_key": []},
            {"group_key": ["region"], "group_filters": {"cluster": ["cluster-a"]}},
            {"group_key": ["region"], "group_filters": {"region": "region-a"}},
        ],
        ids=[
            "group_by_and_group_key",
            "group_by_and_group_filters",
            "not_a_group_key",
            "repeated_key",
            "empty",
            "filter_outside_group_key",
            "filter_not_a_list",
        ],
    )
    def test_given_group_key_or_filters_metronome_refuses_then_400_with_a_message(self, fake, client, grouping):
        customer, metric = compound_metric(fake)

        response = client.usage(usage_body(customer, metric, **grouping))

        assert response.status_code == 400
        assert response.json()["message"]

    def test_given_part_of_a_compound_key_then_400_as_only_whole_keys_match(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(group_keys_per_metric=3, customers=8))
        client = Client(fake)
        customer, metric = next(
            (customer, metric) for customer in fake.dataset.customers for metric in fake.dataset.metrics_of(customer) if len(metric.group_keys) == 3
        )

        part = client.usage(usage_body(customer, metric, group_key=list(metric.group_keys[:2])))
        whole = client.usage(usage_body(customer, metric, group_key=list(metric.group_keys)))

        assert part.status_code == 400 and "not a group key" in part.json()["message"]
        assert whole.status_code == 200 and len(whole.json()["data"][0]["group"]) == 3

    @pytest.mark.parametrize("dates", [{"starting_on": DAY["starting_on"]}, {"ending_before": DAY["ending_before"]}, DAY], ids=["start", "end", "both"])
    def test_given_current_period_with_explicit_dates_then_400(self, fake, client, dates):
        customer, metric = metric_with(fake)

        response = client.usage(current_period_body(customer, metric, **dates))

        assert response.status_code == 400
        assert "current_period" in response.json()["message"]


class TestListings:
    def test_given_archived_customers_then_listed_only_with_only_archived(self, fake, client):
        active = [customer["id"] for customer in client.get("/v1/customers").json()["data"]]
        archived = [customer["id"] for customer in client.get("/v1/customers", only_archived="true").json()["data"]]

        assert active == [customer.id for customer in fake.dataset.customers if not customer.archived]
        assert archived == [customer.id for customer in fake.dataset.customers if customer.archived]
        assert len(active) == len(archived) == 2

    def test_given_customer_ids_then_only_those_customers_are_listed(self, fake, client):
        wanted = [fake.dataset.customers[0].id, fake.dataset.customers[3].id]
        wanted_active = [customer_id for customer_id in wanted if not fake.dataset.customer(customer_id).archived]

        listed = client.get("/v1/customers", customer_ids=wanted).json()["data"]

        assert [customer["id"] for customer in listed] == wanted_active

    def test_given_a_customers_metrics_then_group_keys_come_in_older_and_newer_forms(self, fake, client):
        listed = [
            metric
            for customer in fake.dataset.customers
            for metric in client.get(f"/v1/customers/{customer.id}/billable-metrics").json()["data"]
        ]

        assert {metric["aggregation_type"] for metric in listed} <= {"COUNT", "SUM", "MAX", "LATEST"}
        assert any("group_by" in metric and "group_keys" not in metric for metric in listed)
        assert any("group_keys" in metric and "group_by" not in metric for metric in listed)
        assert all(isinstance(keys, list) for metric in listed for keys in metric.get("group_keys", []))

    def test_given_a_retired_metric_then_a_customers_listing_shows_it_only_with_include_archived_and_it_has_usage(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(retired_metrics=1))
        client = Client(fake)
        customer = fake.dataset.customers[0]
        [retired_id] = customer.retired_metric_ids

        default = client.every_item(f"/v1/customers/{customer.id}/billable-metrics")
        every = client.every_item(f"/v1/customers/{customer.id}/billable-metrics", include_archived="true")
        usage = client.every_item("/v1/usage/groups", {"customer_id": customer.id, "billable_metric_id": retired_id, "window_size": "DAY", **DAY})

        assert [metric["id"] for metric in default] == list(customer.metric_ids)
        assert [metric["id"] for metric in every] == list(customer.metric_ids) + [retired_id]
        assert every[-1]["archived_at"] == format_timestamp(fake.dataset.metrics[retired_id].archived_at)
        archived_at = fake.dataset.metrics[retired_id].archived_at
        assert sum(item["value"] or 0 for item in usage if parse_timestamp(item["starting_on"]) < archived_at) > 0
        assert all(not item["value"] for item in usage if parse_timestamp(item["starting_on"]) >= archived_at), "no usage after its archiving"

    def test_given_customers_archived_now_then_they_move_to_the_archived_list_with_archived_at_now(self, fake, client):
        active = [customer["id"] for customer in client.get("/v1/customers").json()["data"]]

        fake.archive_customers(active[0])

        assert [customer["id"] for customer in client.get("/v1/customers").json()["data"]] == active[1:]
        archived = {customer["id"]: customer["archived_at"] for customer in client.get("/v1/customers", only_archived="true").json()["data"]}
        assert archived[active[0]] == format_timestamp(fake.now)

    def test_given_the_accounts_metrics_then_newer_shape_with_archived_on_request(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(archived_metrics=2))
        client = Client(fake)

        active = client.every_item("/v1/billable-metrics", limit=2)
        every = client.every_item("/v1/billable-metrics", limit=2, include_archived="true")

        on_plans = {metric.id for customer in fake.dataset.customers for metric in fake.dataset.metrics_of(customer)}
        assert on_plans <= {metric["id"] for metric in active}
        assert all(metric["archived_at"] is None for metric in active)
        archived = [metric for metric in every if metric["archived_at"]]
        assert len(archived) == 2 and not {metric["id"] for metric in archived} & on_plans
        assert [metric for metric in every if not metric["archived_at"]] == active
        assert all("group_by" not in metric and isinstance(metric["group_keys"], list) for metric in every)
        assert ["region", "cluster"] in [keys for metric in every for keys in metric["group_keys"]]
        assert {metric["aggregation_key"] for metric in every if metric["aggregation_type"] == "COUNT"} == {None}


class TestUsage:
    def test_given_a_range_past_now_then_only_windows_started_before_now_come(self, fake, client):
        customer, metric = metric_with(fake)
        future = {"ending_before": "2024-03-20T00:00:00+00:00"}

        day = client.usage(usage_body(customer, metric, "DAY", **future)).json()["data"]
        hour = client.usage(usage_body(customer, metric, "HOUR", **future), limit=100).json()
        none = client.usage(usage_body(customer, metric, "NONE", **future)).json()["data"]

        assert [window["starting_on"][:10] for window in day] == ["2024-03-13", "2024-03-14", "2024-03-15"]
        assert len(hour["data"]) == 24 + 24 + 14 and hour["next_page"] is None
        assert hour["data"][-1]["starting_on"] == "2024-03-15T13:00:00+00:00"
        assert [(window["starting_on"], window["ending_before"]) for window in none] == [(DAY["starting_on"], future["ending_before"])]
        assert {(window["group_key"], window["group_value"]) for window in day + hour["data"] + none} == {(None, None)}

    def test_given_a_count_metric_then_its_hours_add_up_to_the_day(self, fake, client):
        customer, metric = metric_with(fake, "COUNT")

        days = client.usage(usage_body(customer, metric, "DAY")).json()["data"]
        hours = client.usage(usage_body(customer, metric, "HOUR"), limit=48).json()["data"]

        assert [day["value"] for day in days] == [sum(hour["value"] for hour in hours[:24]), sum(hour["value"] for hour in hours[24:])]
        assert all(day["value"] > 0 for day in days)

    def test_given_time_passing_then_only_the_day_in_progress_grows(self, fake, client):
        customer, metric = metric_with(fake, "COUNT")
        before = client.usage(usage_body(customer, metric, "DAY", ending_before="2024-03-16T00:00:00+00:00")).json()["data"]

        fake.advance(hours=6)
        after = client.usage(usage_body(customer, metric, "DAY", ending_before="2024-03-16T00:00:00+00:00")).json()["data"]

        assert [day["value"] for day in after[:2]] == [day["value"] for day in before[:2]]
        assert after[2]["value"] > before[2]["value"]

    def test_given_a_new_revision_then_only_the_late_days_change(self, fake, client):
        customer, metric = metric_with(fake, "COUNT")
        body = usage_body(customer, metric, "DAY", starting_on="2024-03-09T00:00:00+00:00", ending_before="2024-03-16T00:00:00+00:00")
        before = [day["value"] for day in client.usage(body).json()["data"]]

        fake.revision = 1
        after = [day["value"] for day in client.usage(body).json()["data"]]
        fake.revision = 0
        reverted = [day["value"] for day in client.usage(body).json()["data"]]

        # late_days=3: the events of a revision arriving on the 15th are dated from the 12th.
        assert after[:3] == before[:3]
        assert all(later > earlier for earlier, later in zip(before[3:], after[3:]))
        assert reverted == before


class TestUsageGrouping:
    def test_given_group_by_then_each_value_and_the_keyless_events_come_as_groups(self, fake, client):
        customer, metric = metric_with(fake, key="region")

        every_value = client.usage(usage_body(customer, metric, group_by={"key": "region"})).json()["data"]
        some_values = client.usage(usage_body(customer, metric, group_by={"key": "region", "values": ["region-b"]})).json()["data"]

        assert [window["group_value"] for window in every_value] == ["region-a", "region-a", "region-b", "region-b", None, None]
        assert {window["group_key"] for window in every_value} == {"region"}
        assert [window["group_value"] for window in some_values] == ["region-b", "region-b"]

    def test_given_a_single_newer_group_key_then_items_carry_group_and_match_group_by(self, fake, client):
        customer, metric = metric_with(fake, key="region")

        older = client.usage(usage_body(customer, metric, group_by={"key": "region"})).json()["data"]
        newer = client.usage(usage_body(customer, metric, group_key=["region"])).json()["data"]

        assert [{**item, "group": {item["group_key"]: item["group_value"]}} for item in older] == newer
        assert {"region": None} in [item["group"] for item in newer]
        assert all("group" not in item for item in older)

    def test_given_a_compound_group_key_then_each_combination_is_a_group_and_groups_split_the_events(self, fake, client):
        customer, metric = compound_metric(fake)
        assert metric.aggregation_type == "MAX" and metric.group_keys == ("region", "cluster")

        grouped = client.every_item("/v1/usage/groups", usage_body(customer, metric, group_key=["cluster", "region"]))
        ungrouped = client.usage(usage_body(customer, metric)).json()["data"]

        groups = [item["group"] for item in grouped[::2]]
        values = {"cluster": ("cluster-a", "cluster-b", None), "region": ("region-a", "region-b", None)}
        assert groups == [{"cluster": cluster, "region": region} for cluster in values["cluster"] for region in values["region"]]
        assert {(item["group_key"], item["group_value"]) for item in grouped} == {(None, None)}
        for day, total in enumerate(ungrouped):
            values = [item["value"] for item in grouped[day::2] if item["value"] is not None]
            assert max(values) == total["value"]

    def test_given_group_filters_then_only_those_values_come_and_an_empty_list_keeps_all(self, fake, client):
        customer, metric = compound_metric(fake)

        items = client.every_item(
            "/v1/usage/groups", usage_body(customer, metric, group_key=["region", "cluster"], group_filters={"region": ["region-b"], "cluster": []})
        )

        assert [item["group"] for item in items[::2]] == [{"region": "region-b", "cluster": cluster} for cluster in ("cluster-a", "cluster-b", None)]


class TestCurrentPeriod:
    def test_given_current_period_then_windows_run_from_the_period_start_and_none_spans_it(self, fake, client):
        customer, metric = metric_with(fake, "COUNT")
        # Created on 2024-02-08: monthly periods start on the 8th, and "now" is 2024-03-15T13:30Z.
        period = ("2024-03-08T00:00:00+00:00", "2024-04-08T00:00:00+00:00")

        days = client.usage(current_period_body(customer, metric)).json()["data"]
        none = client.usage(current_period_body(customer, metric, "NONE")).json()["data"]
        dated = client.usage(usage_body(customer, metric, starting_on=period[0], ending_before=period[1])).json()["data"]

        assert [day["starting_on"][:10] for day in days] == [f"2024-03-{day:02d}" for day in range(8, 16)]
        assert days == dated
        assert [(window["starting_on"], window["ending_before"]) for window in none] == [period]
        assert none[0]["value"] == sum(day["value"] for day in days)

    def test_given_a_customer_without_a_plan_then_400_but_dated_usage_is_served(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(no_plan_share=0.5))
        client = Client(fake)
        customer = next(customer for customer in fake.dataset.customers if not customer.has_active_plan)
        metric = fake.dataset.metrics_of(customer)[0]

        current = client.usage(current_period_body(customer, metric))
        dated = client.usage(usage_body(customer, metric))

        assert current.status_code == 400
        assert "no active plan or contract" in current.json()["message"]
        assert dated.status_code == 200


class TestCosts:
    def test_given_a_customer_then_one_day_per_day_started_and_each_cost_sums_its_line_items(self, fake, client):
        customer = next(customer for customer in fake.dataset.customers if not fake.dataset.on_unique_plan(customer))

        days = client.get(f"/v1/customers/{customer.id}/costs", starting_on=DAY["starting_on"], ending_before="2024-03-20T00:00:00+00:00").json()["data"]

        assert [(day["start_timestamp"], day["end_timestamp"]) for day in days] == [
            ("2024-03-13T00:00:00+00:00", "2024-03-14T00:00:00+00:00"),
            ("2024-03-14T00:00:00+00:00", "2024-03-15T00:00:00+00:00"),
            ("2024-03-15T00:00:00+00:00", "2024-03-16T00:00:00+00:00"),
        ]
        for day in days:
            for credit_type in day["credit_types"].values():
                assert credit_type["cost"] == sum(item["cost"] for item in credit_type["line_item_breakdown"]) > 0

    def test_given_metrics_with_group_keys_then_line_items_split_by_the_first_key(self, fake, client):
        customer, metric = metric_with(fake, key="region")

        days = client.get(f"/v1/customers/{customer.id}/costs", **DAY).json()["data"]

        for day in days:
            line_items = day["credit_types"][metric.credit_type.id]["line_item_breakdown"]
            groups = [(item["group_key"], item["group_value"]) for item in line_items if item["name"] == metric.name]
            assert groups == [(metric.group_keys[0], value) for value in fake.dataset.group_values(metric, metric.group_keys[0])]
        line_items = [item for day in days for credit_type in day["credit_types"].values() for item in credit_type["line_item_breakdown"]]
        assert any("group_key" not in item for item in line_items), "metrics without keys should have one line item without a group"

    def test_given_a_unique_metric_plan_then_400_but_usage_is_served(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(unique_plan_share=0.25))
        client = Client(fake)
        customer, metric = metric_with(fake, "UNIQUE")

        costs = client.get(f"/v1/customers/{customer.id}/costs", **DAY)
        usage = client.usage(usage_body(customer, metric))

        assert costs.status_code == 400
        assert "UNIQUE" in costs.json()["message"]
        assert usage.status_code == 200


class TestAnswerForms:
    """Metronome's other ways of answering: timestamps in Z with milliseconds, 429 when rate limited."""

    @pytest.mark.parametrize("retry_after", [None, 2.0], ids=["without_retry_after", "with_retry_after"])
    def test_given_a_rate_limit_when_exceeded_then_429_with_or_without_retry_after(self, start_fake, retry_after):
        fake = start_fake(OPTIONS, rate_limit=2, retry_after=retry_after)
        client = Client(fake)

        statuses = [client.get("/v1/customers") for _ in range(3)]

        assert [response.status_code for response in statuses] == [200, 200, 429]
        assert statuses[2].headers.get("Retry-After") == (None if retry_after is None else "2")


class TestDeterminism:
    def test_given_new_options_at_their_defaults_then_every_earlier_id_and_choice_stays(self, start_fake):
        plain = start_fake(OPTIONS).dataset
        extended = start_fake(OPTIONS.with_changes(no_plan_share=0.5, archived_metrics=2)).dataset

        assert [(customer.id, customer.metric_ids, customer.archived) for customer in extended.customers] == [
            (customer.id, customer.metric_ids, customer.archived) for customer in plain.customers
        ]
        assert list(extended.metrics)[: len(plain.metrics)] == list(plain.metrics)
        assert sum(not customer.has_active_plan for customer in extended.customers) == 2
        assert all(customer.has_active_plan for customer in plain.customers)

    def test_given_the_same_seed_then_two_fakes_answer_the_same_and_another_seed_differs(self, start_fake):
        answers = []
        for seed in (3, 3, 4):
            fake = start_fake(OPTIONS.with_changes(seed=seed))
            client = Client(fake)
            customer, metric = metric_with(fake)
            answers.append((client.get("/v1/customers").json(), client.usage(usage_body(customer, metric)).json()))

        assert answers[0] == answers[1]
        assert answers[0][0] != answers[2][0]


class TestCommandLine:
    def test_when_started_then_it_prints_its_url_and_serves_until_stopped(self):
        process = subprocess.Popen(
            [sys.executable, "-m", "integration_tests.fake_metronome", "--port", "0", "--customers", "2", "--token", "cli-token"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            banner = process.stdout.readline()
            url = banner.split()[3]
            response = requests.get(url + "/v1/customers", headers={"Authorization": "Bearer cli-token"}, timeout=10)
        finally:
            process.terminate()
            process.wait(timeout=10)

        assert url.startswith("http://127.0.0.1:")
        assert DEFAULT_NOW.isoformat() in banner
        assert len(response.json()["data"]) == 2


class TestGroundTruth:
    """The ground truth of the directory and line-item streams and the newer usage settings, checked against what the fake serves."""

    def test_given_group_keys_then_metrics_with_the_key_carry_the_served_group_others_none(self, fake, client):
        customer, metric = compound_metric(fake)
        filters = {"cluster": ["cluster-b"]}
        config = {"customer_ids": [customer.id], "start_date": DAY["starting_on"], "end_date": "2024-03-15"}
        config.update(group_keys=["region", "cluster"], group_filters=filters)

        expected = expected_records(fake.dataset, config)[USAGE]

        for listed in fake.dataset.metrics_of(customer):
            partition = {"customer_id": customer.id, "billable_metric_id": listed.id}
            grouping = {"group_key": ["region", "cluster"], "group_filters": filters} if listed is metric else {}
            served = served_usage(client, partition, {"window_size": "DAY", **DAY, **grouping})
            assert without_connector_fields([record for record in expected if record["billable_metric_id"] == listed.id]) == served
        grouped = [record for record in expected if record["billable_metric_id"] == metric.id]
        assert [record["group_id"] for record in grouped[::2]] == [
            '{"cluster":"cluster-b","region":"region-a"}',
            '{"cluster":"cluster-b","region":"region-b"}',
            '{"cluster":"cluster-b","region":null}',
        ]
        assert all("group" not in record and record["group_id"] == "{}" for record in expected if record["billable_metric_id"] != metric.id)

    def test_given_current_period_then_usage_covers_each_customers_period_and_costs_stay_dated(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(no_plan_share=0.5))
        client = Client(fake)
        config = {"start_date": DAY["starting_on"], "window_size": "DAY", "current_period": True}

        expected = expected_records(fake.dataset, config)
        dated = expected_records(fake.dataset, {**config, "current_period": False})

        # Full refresh only with current_period: every customer is read, archived ones included.
        listed = fake.dataset.customers
        assert any(customer.archived and customer.has_active_plan for customer in listed), "the dataset should have an archived customer with a plan"
        for customer in listed:
            for metric in fake.dataset.metrics_of(customer):
                partition = {"customer_id": customer.id, "billable_metric_id": metric.id}
                records = [record for record in expected[USAGE] if record["billable_metric_id"] == metric.id and record["customer_id"] == customer.id]
                served = served_usage(client, partition, {"window_size": "DAY", "current_period": True}) if customer.has_active_plan else []
                assert without_connector_fields(records) == served
        assert {record["customer_id"] for record in expected[USAGE]} == {customer.id for customer in listed if customer.has_active_plan} != set()
        assert expected[COSTS] == dated[COSTS]

    def test_given_line_items_then_rows_flatten_each_cost_day_and_add_up_to_its_costs(self, fake, client):
        config = {"start_date": DAY["starting_on"], "end_date": "2024-03-15"}

        expected = expected_records(fake.dataset, config)
        served = {
            (customer.id, day["start_timestamp"]): day["credit_types"]
            for customer in fake.dataset.customers
            if not customer.archived
            for day in client.every_item(f"/v1/customers/{customer.id}/costs", **DAY)
        }

        rows = expected[COST_LINE_ITEMS]
        cost_days = {(record["customer_id"], record["start_timestamp"]) for record in expected[COSTS]}
        assert {(row["customer_id"], row["start_timestamp"]) for row in rows} == set(served) == cost_days
        for (customer_id, start), credit_types in served.items():
            for credit_type_id, credit_type in credit_types.items():
                key = (customer_id, start, credit_type_id)
                day_rows = [row for row in rows if (row["customer_id"], row["start_timestamp"], row["credit_type_id"]) == key]
                assert sum(row["cost"] for row in day_rows) == credit_type["cost"]
                assert [(row["line_item_name"], row["group_key"], row["group_value"]) for row in day_rows] == [
                    (item["name"], item.get("group_key"), item.get("group_value")) for item in credit_type["line_item_breakdown"]
                ]
                assert {row["credit_type_name"] for row in day_rows} == {credit_type["name"]}
        assert any(row["group_key"] for row in rows) and any(row["group_key"] is None for row in rows)

    def test_given_include_archived_then_customers_and_their_metrics_are_those_listed(self, fake, client):
        config = {"start_date": DAY["starting_on"], "include_archived_customers": True}

        expected = expected_records(fake.dataset, config)

        listed = client.every_item("/v1/customers") + client.every_item("/v1/customers", only_archived="true")
        assert expected[CUSTOMERS] == listed
        metrics = {customer["id"]: client.every_item(f"/v1/customers/{customer['id']}/billable-metrics", include_archived="true") for customer in listed}
        assert expected[BILLABLE_METRICS] == [{**metric, "customer_id": customer_id} for customer_id, listing in metrics.items() for metric in listing]
