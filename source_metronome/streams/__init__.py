"""Metronome's list endpoints as Airbyte streams, one module per family of endpoints.

- `endpoint.py`: what a stream declares (path, method, pagination, primary key, cursor, records);
- `pagination.py`: where each endpoint takes its page size and token, and gives the next one;
- `base.py`: the stream every endpoint is read with (requests built, pages followed, records shaped;
  requests sent through `source_metronome/http_exchange.py`);
- `account.py`: account-wide lists, read whole in one go;
- `partitioned.py`: lists read per customer (or customer × metric), partitions read ahead
  concurrently, each with its own cursor when the stream is incremental;
- `usage.py`: usage aggregates, one partition per customer × billable metric;
- `listed.py`: lists read once per item of another list (each contract's edits, each rate card's rates);
- `from_directory.py`: customers and billable metrics, emitted from the lists the sync reads anyway.

The declarations themselves, one per emitted stream, are in `source_metronome/endpoints.py`.
"""
