"""Prints every triage the gateway publishes as plain JSON on the exchange triage.completed.json.

    pip install pika
    RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/%2F SUBSCRIBER_QUEUE=my-team-triages python subscriber.py

The queue is this subscriber's own: durable, so that results published while it is down wait for it. Several
processes on the same queue share the results; another queue gets every result again. Delivery is at least once:
de-duplicate on message_id, the failure's event id.
"""

import json
import os

import pika

EXCHANGE = "triage.completed.json"


def main() -> None:
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    queue = os.environ.get("SUBSCRIBER_QUEUE", "my-team-triages")

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    # The gateway declares the exchange at start; declaring it the same way here lets the subscriber start first.
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="fanout", durable=True)
    channel.queue_declare(queue=queue, durable=True)
    channel.queue_bind(queue=queue, exchange=EXCHANGE)
    channel.basic_qos(prefetch_count=16)

    seen: set[str] = set()

    def on_message(ch, method, properties, body: bytes) -> None:
        triage = json.loads(body)
        if properties.message_id not in seen:
            seen.add(properties.message_id)
            owners = ", ".join(triage.get("suggestedOwners") or []) or "none suggested"
            print(f"{triage['eventId']} [{triage['route']}] {triage['category']}: {triage['summary']}")
            print(f"    cause: {triage['suspectedCause']}")
            print(f"    owners: {owners}; by {triage['provider']} ({triage['model']})", flush=True)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(queue=queue, on_message_callback=on_message)
    print(f"Waiting for triages on {queue} (bound to {EXCHANGE}); Ctrl+C stops.", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        channel.stop_consuming()
    finally:
        connection.close()


if __name__ == "__main__":
    main()
