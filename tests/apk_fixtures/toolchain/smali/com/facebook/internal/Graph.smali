.class public Lcom/facebook/internal/Graph;
.super Ljava/lang/Object;
.source "Graph.java"

.method public static call()V
    .locals 2
    new-instance v0, Ljava/net/URL;
    const-string v1, "https://graph.facebook.com/v12.0/me"
    invoke-direct {v0, v1}, Ljava/net/URL;-><init>(Ljava/lang/String;)V
    return-void
.end method
