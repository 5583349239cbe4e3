"""KC-RT-*: the runtime itself, driven through its adapter over the kit's probe plugins."""
