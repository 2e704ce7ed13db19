256 SHA256:5MC+T/eSVlGJZQ4Nc5ebzJni+x1s6Z/HeSGEBzeBRcc secret comment (ED25519)
