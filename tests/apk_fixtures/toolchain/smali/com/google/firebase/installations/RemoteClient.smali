.class public Lcom/google/firebase/installations/RemoteClient;
.super Ljava/lang/Object;
.source "FirebaseInstallationServiceClient.java"

.method public static call()V
    .locals 2
    new-instance v0, Ljava/net/URL;
    const-string v1, "https://firebaseinstallations.googleapis.com/v1/projects"
    invoke-direct {v0, v1}, Ljava/net/URL;-><init>(Ljava/lang/String;)V
    return-void
.end method
