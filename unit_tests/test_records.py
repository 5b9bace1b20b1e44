"""Record shaping for the invoice streams: line items keep every served field and get a stable id."""

from airbyte_cdk.sources.types import StreamSlice

from source_metronome.records import invoice_line_item_digest, invoice_line_items, with_customer

CUSTOMER = "04ca7e72-4229-4a6e-ab11-9f7376fccbcb"
USD = {"id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2", "name": "USD (cents)"}
SLICE = StreamSlice(partition={"customer_id": CUSTOMER}, cursor_slice={})


def _seat(total: float) -> dict:
    return {"type": "scheduled", "name": "Seats", "credit_type": USD, "total": total, "product_id": "p-1"}


def _invoice(*line_items: dict) -> dict:
    return {
        "id": "inv-1",
        "customer_id": CUSTOMER,
        "start_timestamp": "2024-02-01T00:00:00+00:00",
        "end_timestamp": "2024-03-01T00:00:00+00:00",
        "total": sum(item["total"] for item in line_items),
        "line_items": list(line_items),
    }


class TestInvoiceLineItems:
    def test_each_line_item_keeps_its_served_fields_and_names_its_invoice(self):
        [record] = invoice_line_items(_invoice(_seat(1250.25)), SLICE)

        assert record["total"] == 1250.25 and record["credit_type"] == USD and record["name"] == "Seats"
        assert record["invoice_id"] == "inv-1" and record["customer_id"] == CUSTOMER
        assert (record["invoice_start_timestamp"], record["invoice_end_timestamp"]) == ("2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00")

    def test_identical_line_items_on_one_invoice_are_numbered_in_served_order(self):
        records = list(invoice_line_items(_invoice(_seat(10), _seat(20), _seat(30)), SLICE))

        digest = invoice_line_item_digest(_seat(10))
        assert [record["line_item_id"] for record in records] == [digest, f"{digest}-2", f"{digest}-3"]

    def test_the_id_survives_a_change_of_amounts_but_not_of_identity(self):
        assert invoice_line_item_digest(_seat(10)) == invoice_line_item_digest({**_seat(99.5), "quantity": 3})
        assert invoice_line_item_digest(_seat(10)) != invoice_line_item_digest({**_seat(10), "product_id": "p-2"})
        assert len(invoice_line_item_digest(_seat(10))) == 16

    def test_an_invoice_without_line_items_has_no_line_item_records(self):
        assert list(invoice_line_items({**_invoice(), "line_items": None}, SLICE)) == []


class TestWithCustomer:
    def test_the_partition_customer_is_added_and_the_rest_kept(self):
        [record] = with_customer({"id": "b-1", "balance": 0.1}, SLICE)
        assert record == {"id": "b-1", "balance": 0.1, "customer_id": CUSTOMER}
