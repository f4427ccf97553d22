"""`turnstream loadtest`: an open-loop load generator with its own Bot Connector reply sink.

`options` (what to run, bounded), `workload` (the activities and when each is due), `recorder`
(acks, replies, missing/duplicate/out-of-order, percentiles), `runner` (the run itself) and
`report` (JSON result, HTML report with plots); `streaming_bot` is the bot the streaming
workload aims at (a fake model streaming for as long as each message asks).
"""
