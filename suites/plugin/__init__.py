"""KC-PL-*: the plugin as the host sees it — loading, callbacks, tools and commands, manifest."""
