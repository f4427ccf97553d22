"""What gateway and worker agree on through Redis: every key name, the envelope that crosses
the queue (encoded, signed), the enqueue script that chains a conversation's entries, the
answers of request/reply turns, proactive turns."""
