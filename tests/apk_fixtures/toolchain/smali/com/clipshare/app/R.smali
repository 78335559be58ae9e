.class public final Lcom/clipshare/app/R;
.super Ljava/lang/Object;
.source "R.java"
