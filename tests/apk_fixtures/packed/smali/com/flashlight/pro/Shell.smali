.class public Lcom/flashlight/pro/Shell;
.super Landroid/app/Application;

.method public constructor <init>()V
    .locals 0
    invoke-direct {p0}, Landroid/app/Application;-><init>()V
    return-void
.end method

.method public onCreate()V
    .locals 5
    invoke-super {p0}, Landroid/app/Application;->onCreate()V
    new-instance v0, Ldalvik/system/DexClassLoader;
    const-string v1, "/data/data/com.flashlight.pro/files/payload.dex"
    const-string v2, "/data/data/com.flashlight.pro/files"
    const/4 v3, 0x0
    invoke-virtual {p0}, Lcom/flashlight/pro/Shell;->getClassLoader()Ljava/lang/ClassLoader;
    move-result-object v4
    invoke-direct {v0, v1, v2, v3, v4}, Ldalvik/system/DexClassLoader;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/ClassLoader;)V
    return-void
.end method
