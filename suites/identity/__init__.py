"""KC-ID-*: the identity a plugin supplies through ``pre_agent_identity_set``."""
