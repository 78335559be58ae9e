.class public Lcom/clipshare/app/Api;
.super Ljava/lang/Object;
.source "Api.java"

.field public static BASE:Ljava/lang/String;

.method static constructor <clinit>()V
    .locals 1
    const-string v0, "https://gate.clip-share.top/api/v2/"
    sput-object v0, Lcom/clipshare/app/Api;->BASE:Ljava/lang/String;
    return-void
.end method

# The server's address is kept in a field, then read by the method that opens a connection.
.method public static fetch()V
    .locals 1
    sget-object v0, Lcom/clipshare/app/Api;->BASE:Ljava/lang/String;
    invoke-static {v0}, Lcom/clipshare/app/Net;->open(Ljava/lang/String;)V
    return-void
.end method

# A bare host handed to a socket address.
.method public static push()V
    .locals 3
    new-instance v0, Ljava/net/InetSocketAddress;
    const-string v1, "push.clip-share.top"
    const/16 v2, 0x1bb
    invoke-direct {v0, v1, v2}, Ljava/net/InetSocketAddress;-><init>(Ljava/lang/String;I)V
    return-void
.end method
