2048 SHA256:rPR8+j68JmuGwMiNNiZphuZSDc9rTOMxdj8xHdSwOQU rsa key with  two spaces (RSA)
