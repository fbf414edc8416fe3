"""Keeping feeds fresh: subscribe, refresh, reconcile, schedule.

``feeds`` holds the subscription workflows (check a link, add, edit, pause,
disconnect), ``refresh.refresh_feed`` is the one refresh used by the web
app, the CLI, the embedded scheduler thread and Celery workers, and
``reconcile`` is the one place that writes occurrences. The feed URL is a
bearer secret: it is decrypted only inside ``refresh_feed`` and
``check_link`` and never leaves them (see ``secrets``).
"""
