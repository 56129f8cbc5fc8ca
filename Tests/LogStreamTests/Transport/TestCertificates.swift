// Certificates for the TLS unit tests, made once with the openssl command (EC P-256, valid for 100 years):
// a CA, a server certificate it signed for localhost and 127.0.0.1, a client certificate it signed (CN
// relay-1), and a second CA that signed neither. Test material only: these keys protect nothing.
enum TestCertificates {
    static let caCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBhDCCASugAwIBAgIUATxI2XffORHwFI1h/yBPVgPP0iQwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMdW5pdC10ZXN0LWNhMCAXDTI2MTIwNzAxNDAzMloYDzIxMjYx
        MTEzMDE0MDMyWjAXMRUwEwYDVQQDDAx1bml0LXRlc3QtY2EwWTATBgcqhkjOPQIB
        BggqhkjOPQMBBwNCAAQV2NyFr/iY3DjHU/v3EcCyrTM4bZRzrhII6IS21ZpirnsG
        Mpevkx+vgSmsbWT2FEGpkbUXMkYbVajyrp+szCqIo1MwUTAdBgNVHQ4EFgQUDUy6
        1QIhq1LtVUPj0USF4gySjbYwHwYDVR0jBBgwFoAUDUy61QIhq1LtVUPj0USF4gyS
        jbYwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBs6ir7XnkpXTHW
        xzBbUKtlKpwU4xnDtjNQpXQJqs2JrgIgalFzkA/WUpuaqusgoBLPlmxTZv7SOkuI
        Fu7zZkaCR0s=
        -----END CERTIFICATE-----
        """

    static let serverCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBjzCCATWgAwIBAgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAx1bml0LXRl
        c3QtY2EwIBcNMjYxMjA3MDE0MDMyWhgPMjEyNjExMTMwMTQwMzJaMBQxEjAQBgNV
        BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAWHvN7P54sc
        8O+GaCY6yw/+pTTadQABmQeBMK6u4RfNtKaGAibkdt0MTq7dkXDXWGF7sDu8hZVP
        FdvWjIj0+kmjczBxMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATATBgNVHSUE
        DDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUXqFC+DnvVXoWW12AicdHg7SkDF4wHwYD
        VR0jBBgwFoAUDUy61QIhq1LtVUPj0USF4gySjbYwCgYIKoZIzj0EAwIDSAAwRQIh
        AKDh78IGyu3HwqZwSlVu1pZme11SILe+okG1czcLPscmAiADJBtCOY7699kp3f/x
        RTCtRfkGwP6dc9XQqvXjele5kQ==
        -----END CERTIFICATE-----
        """

    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgA9ft0jB0dgkaXvjB
        radAYNdIJrAKR984wleqpuUZBiGhRANCAAQFh7zez+eLHPDvhmgmOssP/qU02nUA
        AZkHgTCuruEXzbSmhgIm5HbdDE6u3ZFw11hhe7A7vIWVTxXb1oyI9PpJ
        -----END PRIVATE KEY-----
        """

    static let clientCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBcTCCARegAwIBAgIBAzAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAx1bml0LXRl
        c3QtY2EwIBcNMjYxMjA3MDE0MDMyWhgPMjEyNjExMTMwMTQwMzJaMBIxEDAOBgNV
        BAMMB3JlbGF5LTEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASJBRNBjEhIQ59D
        tHGWIm6bKy8giD/S13Us881z8B1LylRCx9jMgSF4R3UHMUId8IgLuTNoQyfRUHid
        ZH0m+d0Oo1cwVTATBgNVHSUEDDAKBggrBgEFBQcDAjAdBgNVHQ4EFgQU1iO0mCYf
        mPy95Cwild/wO/MkphowHwYDVR0jBBgwFoAUDUy61QIhq1LtVUPj0USF4gySjbYw
        CgYIKoZIzj0EAwIDSAAwRQIgKDiMSUE0qAkwd3lWEl6H1eilCMLsz4uSqkOMyt47
        i+8CIQDfauRgzgQHg86IkUd0d0Cq5Ke5aMQnVR6n37nW81f5hA==
        -----END CERTIFICATE-----
        """

    static let clientKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqhgtxD2N0QNoiO8O
        XtrO5MumyaJn59DdXk8X/yaSEV2hRANCAASJBRNBjEhIQ59DtHGWIm6bKy8giD/S
        13Us881z8B1LylRCx9jMgSF4R3UHMUId8IgLuTNoQyfRUHidZH0m+d0O
        -----END PRIVATE KEY-----
        """

    static let otherCACertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBkTCCATegAwIBAgIULPDh/a5QOr1nnWJn2PdjUbhZBbUwCgYIKoZIzj0EAwIw
        HTEbMBkGA1UEAwwSdW5pdC10ZXN0LW90aGVyLWNhMCAXDTI2MTIwNzAxNDAzMloY
        DzIxMjYxMTEzMDE0MDMyWjAdMRswGQYDVQQDDBJ1bml0LXRlc3Qtb3RoZXItY2Ew
        WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQy6WCul2MuV8QJh+v9psJPgjdDfaxc
        x5+v0o8D6OMGyIENAJD2K6L/o/EuLLJeDHdl5tNKGbVITU+Fi2gI5Whyo1MwUTAd
        BgNVHQ4EFgQUxR/duuOUU7jF9PO1Y8oszkohOIkwHwYDVR0jBBgwFoAUxR/duuOU
        U7jF9PO1Y8oszkohOIkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
        AiEA1LVH58/36DYlafAhjNmnCmZR/q+xLm4ZT9vKOGXX8uACID9vY7psXXXuuunr
        rLY++ZGE40amJOd2JHpjPdjPNadC
        -----END CERTIFICATE-----
        """

}
