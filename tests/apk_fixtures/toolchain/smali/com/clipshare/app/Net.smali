.class public Lcom/clipshare/app/Net;
.super Ljava/lang/Object;
.source "Net.java"

.method public static open(Ljava/lang/String;)V
    .locals 1
    new-instance v0, Ljava/net/URL;
    invoke-direct {v0, p0}, Ljava/net/URL;-><init>(Ljava/lang/String;)V
    invoke-virtual {v0}, Ljava/net/URL;->openConnection()Ljava/net/URLConnection;
    return-void
.end method
