256 SHA256:MLUg9HQtXIhI/yvt0kv4+nYzJneocts5vfqiZZKffwI alice@laptop (ED25519)
